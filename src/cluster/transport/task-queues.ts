/**
 * The task queues: each queue's work-queue stream LF_TASKS_<queue> (why one per queue: subjects.ts) and its worker
 * consumers w_<queue>_<handler>, created by the engines when they first hand out an attempt of that pair; and the
 * publishing of an attempt onto it.
 *
 * Why the engines create the consumers: a user that may create consumers on a queue's stream may create one filtered
 * on any handler of it, and so lock its real workers out (a work queue allows one consumer per filter); nats-server
 * 2.9's filtered create API could confine the filter but not the consumer's name. So nats.conf grants workers no
 * create at all, an exact rule.
 *
 * Priority (docs/nats.md#priority-attempts-waiting-for-a-worker): an attempt of a non-default priority goes to its
 * level's subject lf.q.<queue>.<handler>.p<NN> (consumer p<NN>_<queue>_<handler>), and the queue's workers are told
 * (lf.levels.…) before it is stored, so a worker knows the level before it can find the attempt, and again after, so
 * an idle worker pulls it at once; they pull the highest level first (worker-pull.ts).
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { headers } from '../../store/index.js';
import { ATTEMPT_SIG_HEADER } from './attempt-keys.js';
import { ensureWorkerConsumer, type ClusterSettings } from './setup.js';
import { DEFAULT_LEVEL, levelConsumerName, splitSkillKey, subjects } from './subjects.js';

export class TaskQueues {
  /** Each pair (and level) once per engine process (a failed create, or a failed publish, is tried again by the next attempt of the pair). */
  private readonly made = new Map<string, Promise<string>>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly settings: ClusterSettings | undefined,
    /** Core NATS publish (the level notices); without it, workers find levels by reading the stream every few seconds. */
    private readonly notify?: (subject: string) => void,
    /** Told of every attempt handed out, queued or offered (the engine log's word on handlers nobody serves: presence.ts). */
    private readonly handedOut?: (queue: string, handler: string) => void,
    /** The engines' signature of an attempt's body (attempt-keys.ts): workers run no attempt without it. */
    private readonly sign?: (data: Uint8Array) => string,
  ) {}

  /** The queue's stream and the pair's consumer (of the level of `priority`), once made (by this engine or another); resolves to the consumer's name. */
  ensure(queue: string, handler: string, priority: number = DEFAULT_LEVEL): Promise<string> {
    // Who serves it is said of the handler (presence.ts), whatever skills its key names.
    this.handedOut?.(queue, splitSkillKey(handler)?.handler ?? handler);
    const name = levelConsumerName(queue, handler, priority);
    let made = this.made.get(name);
    if (!made) {
      // A skill key's consumer comes with its handler's own (the default level's): a worker of the handler waits for
      // that one before it pulls any lane (worker.ts), and under nats.conf a worker may not make it.
      const plain = splitSkillKey(handler)?.handler;
      made =
        plain !== undefined && plain !== handler
          ? this.ensure(queue, plain).then(() =>
              ensureWorkerConsumer(this.jsm, queue, handler, this.settings, priority),
            )
          : ensureWorkerConsumer(this.jsm, queue, handler, this.settings, priority);
      this.made.set(name, made);
      made.catch(() => this.made.delete(name));
    }
    return made;
  }

  /**
   * Publishes an attempt on lf.q.<queue>.<handler> (or its priority level's subject) once its stream
   * exists (a publish before would find no stream). A failed publish forgets the pair, so the next one
   * makes its stream again (deleted by an operator, say) rather than fail the same way.
   */
  async dispatch(
    queue: string,
    handler: string,
    data: Uint8Array,
    msgID: string,
    priority: number = DEFAULT_LEVEL,
  ): Promise<void> {
    await this.ensure(queue, handler, priority);
    try {
      // A skill key's lane is told at every level, the default too (worker-pull.ts: lanes other than the plain handler's).
      const level =
        priority === DEFAULT_LEVEL && !handler.includes('~') ? null : subjects.levelNotice(queue, handler, priority);
      // Before: a worker freeing a slot knows the level before it can find the attempt. After: an idle worker pulls it now.
      if (level) this.notify?.(level);
      const h = headers();
      if (this.sign) h.set(ATTEMPT_SIG_HEADER, this.sign(data));
      await this.js.publish(subjects.taskAt(queue, handler, priority), data, { msgID, headers: h });
      if (level) this.notify?.(level);
    } catch (err) {
      this.made.delete(levelConsumerName(queue, handler, priority));
      throw err;
    }
  }
}
