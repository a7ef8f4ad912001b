/**
 * The worker consumers of LF_TASKS (w_<queue>_<handler>), created by the
 * engines when they first hand out an attempt of that pair, not by workers.
 *
 * Why not the workers: a user that may create consumers on LF_TASKS may
 * create one filtered on any queue, and so take that queue's attempts (with
 * their tokens) and lock its real workers out (a work queue allows one
 * consumer per filter). nats-server 2.9's filtered create API
 * ($JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>) could confine a user to
 * its queues' filters, but not the consumer's name, which is one subject
 * token: a user could take the name w_<queue>_<handler> of another queue
 * first, with a filter of its own. With engines creating them, nats.conf
 * grants workers no create at all, an exact rule.
 */
import type { JetStreamManager } from 'nats';
import { ensureWorkerConsumer, type ClusterSettings } from './setup.js';
import { workerConsumerName } from './subjects.js';

export class WorkerConsumers {
  /** Each pair once per engine process (a failed create is tried again by the next attempt of the pair). */
  private readonly made = new Map<string, Promise<string>>();

  constructor(private readonly jsm: JetStreamManager, private readonly settings: ClusterSettings | undefined) {}

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
}
