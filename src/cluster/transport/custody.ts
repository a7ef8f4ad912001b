/**
 * What the processing of one durable message holds: the deliveries its ack waits for (notifications a commit made due),
 * and, for a message pulled from a consumer (not a report answered on lf.reports), a hold on it that lasts while
 * attempts offered under it are with workers (direct-dispatch.ts: its custody). Passed along explicitly with every
 * commit made while the message is processed, down to the effects that offer attempts and deliver notifications, not
 * by AsyncLocalStorage: on Node 20 it turned on promise hooks for every promise of the engine (4.6% of its CPU).
 */
export interface Custody {
  /** What the message's ack waits for. */
  readonly deliveries: Promise<void>[];
  /** Whether attempts may be offered under it (its ack waits for their reports). */
  readonly holds: boolean;
}
