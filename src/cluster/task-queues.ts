/**
 * The task queues: each queue's work-queue stream LF_TASKS_<queue> and its
 * worker consumers w_<queue>_<handler>, created by the engines when they first
 * hand out an attempt of that pair, not by workers; and the publishing of an
 * attempt onto it.
 *
 * Why a stream per queue: see subjects.ts (nats.conf grants a worker user its
 * queues' streams, and every JetStream subject a worker uses names the stream).
 *
 * Why the engines create the consumers, not the workers: a user that may
 * create consumers on a queue's stream may create one filtered on any handler
 * of it, and so lock its real workers out (a work queue allows one consumer
 * per filter); nats-server 2.9's filtered create API
 * ($JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>) could confine the filter
 * but not the consumer's name, one subject token. With engines creating them,
 * nats.conf grants workers no create at all, an exact rule.
 */
import type { JetStreamClient, JetStreamManager } from 'nats';
import { ensureWorkerConsumer, type ClusterSettings } from './setup.js';
import { subjects, workerConsumerName } from './subjects.js';

export class TaskQueues {
  /** Each pair once per engine process (a failed create, or a failed publish, is tried again by the next attempt of the pair). */
  private readonly made = new Map<string, Promise<string>>();

  constructor(private readonly jsm: JetStreamManager, private readonly js: JetStreamClient, private readonly settings: ClusterSettings | undefined) {}

  /** The queue's stream and the pair's consumer, once made (by this engine or another); resolves to the consumer's name. */
  ensure(queue: string, handler: string): Promise<string> {
    const name = workerConsumerName(queue, handler);
    let made = this.made.get(name);
    if (!made) {
      made = ensureWorkerConsumer(this.jsm, queue, handler, this.settings);
      this.made.set(name, made);
      made.catch(() => this.made.delete(name));
    }
    return made;
  }

  /**
   * Publishes an attempt on lf.q.<queue>.<handler> once its stream exists (a publish
   * before would find no stream). A failed publish forgets the pair, so the next one
   * makes its stream again (deleted by an operator, say) rather than fail the same way.
   */
  async dispatch(queue: string, handler: string, data: Uint8Array, msgID: string): Promise<void> {
    await this.ensure(queue, handler);
    try {
      await this.js.publish(subjects.task(queue, handler), data, { msgID });
    } catch (err) {
      this.made.delete(workerConsumerName(queue, handler));
      throw err;
    }
  }
}
