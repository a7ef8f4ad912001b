/** The subjects of each kind of user (nats-conf.ts, and a station's link, station-links.ts), as lists. */
export const q = (s: string) => JSON.stringify(s);
export const list = (xs: readonly string[]) => `[${xs.map(q).join(', ')}]`;

/**
 * The JetStream subjects a user publishes: `$JS.API.…` and `$KV.…` on the hub; on a station's leaf node (`domain`,
 * docs/nats.md#stations), the same through the hub's domain, `$JS.<domain>.API.…` and `$JS.<domain>.API.$KV.…`, which
 * is what its clients send (the leaf passes no `$JS.API.>` or `$KV.>` to the hub). `$JS.ACK.…` is the same on both.
 */
export interface Js {
  api: string;
  kv: string;
}
export const jsSubjects = (domain?: string): Js =>
  domain ? { api: `$JS.${domain}.API`, kv: `$JS.${domain}.API.$KV` } : { api: '$JS.API', kv: '$KV' };

/** What a person publishes and hears: `publish`, `subscribe` (station-links.ts gives a station's link the same lines). */
export interface Grants {
  publish: string[];
  subscribe: string[];
}

export function personGrants(u: string, control: boolean, js: Js): Grants {
  // Starts (and retries: the engine judges L1 for those, L2 a start in the user's domains) for every person; deploys and limits for L0 and L1.
  const publish = [
    `lf.approvals.*.*.${u}`,
    `lf.signals.${u}.*`,
    ...(control ? [`lf.control.${u}.*`] : []),
    `lf.starts.${u}`,
    // A start's large input fields, uploaded before the request (cluster/transport/uploads.ts): written, never read back.
    `lf.uploads.${u}.*.*`,
    ...(control ? [`lf.deploys.${u}`, `lf.limits.${u}`] : []),
    // Archive, restore, blob gc, keys rotate and archive list for every person, as starts: the engine judges the level
    // (L1; the list L2) and refuses the others in the embedded store's words (LF_AUTHORITY_REFUSED naming both levels).
    `lf.upkeep.${u}`,
    // Reading the log as `status`, `history`, `wait`, `list` and `stats` do (docs/users.md): its messages by get, and
    // the two read-only looks a reader makes first, the account's JetStream (which the client asks before any other
    // request) and the log stream's info (its subjects are the runs `list` reads). No consumer: one lets its maker have
    // the server publish the log anywhere and fills the account's consumers; a person's reads walk by gets instead.
    `${js.api}.INFO`,
    `${js.api}.STREAM.INFO.LF_EVENTS`,
    `${js.api}.STREAM.MSG.GET.LF_EVENTS`,
    // The large payloads the log refers to (`blob get`, `replay`, a template read into a body): the objects of
    // LF_BLOBS by message gets too, chunk by chunk (store/blobs/jetstream.ts), never a consumer; never a put.
    `${js.api}.STREAM.MSG.GET.OBJ_LF_BLOBS`,
  ];
  const subscribe = [
    `_INBOX_${u}.>`,
    `lf.verdicts.approvals.*.*.${u}`,
    `lf.verdicts.signals.${u}.*`,
    ...(control ? [`lf.verdicts.control.${u}.*`] : []),
    `lf.verdicts.starts.${u}.*`,
    ...(control ? [`lf.verdicts.deploys.${u}.*`, `lf.verdicts.limits.${u}.*`] : []),
    `lf.verdicts.upkeep.${u}.*`,
  ];
  return { publish, subscribe };
}

/** A worker's lines for one of its queues (publish, subscribe), the offers' queue group kept apart (`offers`). */
export function workerQueueGrants(u: string, queue: string, js: Js): Grants & { offers: string } {
  return {
    publish: [
      `lf.inputs.${u}.${queue}.*`,
      `lf.reports.${u}.${queue}.>`,
      `lf.asks.${queue}`,
      `lf.presence.${u}.${queue}`,
      `lf.dlq.tasks.${u}`,
      `${js.api}.STREAM.INFO.LF_TASKS_${queue}`,
      `${js.api}.CONSUMER.INFO.LF_TASKS_${queue}.*`,
      `${js.api}.CONSUMER.MSG.NEXT.LF_TASKS_${queue}.*`,
      `$JS.ACK.LF_TASKS_${queue}.>`,
      `${js.kv}.LF_ATTEMPTS.${queue}.>`,
      `${js.api}.DIRECT.GET.KV_LF_ATTEMPTS.$KV.LF_ATTEMPTS.${queue}.>`,
    ],
    subscribe: [`lf.asks.${queue}`, `lf.levels.${queue}.>`],
    offers: `lf.offer.${queue}.>`,
  };
}

/** The engines' attempt keys, which every worker reads (the public halves: nothing secret). */
export const attemptKeyReads = (js: Js): string[] => [
  `${js.api}.INFO`,
  `${js.api}.DIRECT.GET.KV_LF_KEYS.$KV.LF_KEYS.attempts`,
  `${js.api}.DIRECT.GET.KV_LF_KEYS.$KV.LF_KEYS.attempts-exchange`,
];
