/**
 * A station's link (docs/nats.md#stations): the user `leaf-<station>` a station's leaf node connects to the hub as, and
 * what it may carry. A leaf node passes on whatever its own clients publish, as whoever its own config says they are;
 * so the hub gives the link only what that station's people and workers need, and nothing else crosses, whatever the
 * leaf's config: what the station sends to the hub (`publish`) and what the hub sends to it (`subscribe`, replies
 * included), from the hub's users file:
 *
 * - each person with `stations: [<station>]`: their approvals, signals, control, starts (and deploys and limits, L0/L1)
 *   under their own name, reading the log, and their own verdicts and reply inboxes;
 * - each Worker (L3) with `stations: [<station>]`: the attempts of the queue `station-<station>` only (pull, ack, claim
 *   in the ledger under that queue, report, presence, dead letters under its own name), the engines' public attempt
 *   keys, and its reply inbox;
 * - never the engines' buckets (LF_ENGINE, LF_SECRETS: a station's task may not read a secret), another queue's
 *   attempts or claims, anyone's subjects but the station's own people's and workers', nor offers (`lf.offer.…`: the
 *   engines queue a station's attempts, which its workers pull; an answer could not come back across the link).
 *
 * The link user may link a leaf node and nothing else (`allowed_connection_types: ["LEAFNODE"]`); every other user of
 * the file may not link one (`["STANDARD", "WEBSOCKET"]`), so that neither the engine's password nor an anonymous
 * connection a development config makes the engine user is a way in. nats-server sends these permissions to the leaf
 * when it links, and only delivers to it what `subscribe` allows; a leaf node built to ignore what it was sent is held
 * to `publish` by the hub itself only from nats-server 2.11.16 / 2.12.7 on (nats-io/nats-server 038a56adf): run such a
 * hub where a station's server is not yours.
 */
import { stationQueue } from '../definition/index.js';
import type { UserRecord } from './file.js';
import { linkUser } from './file.js';
import { attemptKeyReads, jsSubjects, list, personGrants, workerQueueGrants } from './nats-conf-grants.js';

/** Who may link a leaf node (every other user), and who only that (a link). */
export const NOT_A_LEAF = '["STANDARD", "WEBSOCKET"]';
export const LEAF_ONLY = '["LEAFNODE"]';

/** The station `u` is the link of (its name `leaf-<station>` and `stations: [<station>]`), or null. */
export function linkOf(u: UserRecord): string | null {
  return u.stations?.length === 1 && u.name === linkUser(u.stations[0]!) ? u.stations[0]! : null;
}

/** The link of `station`'s permissions block: the station's people's and workers' lines, their JetStream subjects through `domain`. */
export function linkPermissions(
  station: string,
  users: ReadonlyMap<string, UserRecord>,
  domain: string,
  engine: string,
): { text: string; people: string[]; workers: string[] } {
  const js = jsSubjects(domain);
  const publish: string[] = [];
  const subscribe: string[] = [];
  const people: string[] = [];
  const workers: string[] = [];
  const queue = stationQueue(station);
  for (const u of [...users.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (u.name === engine || linkOf(u) !== null || !u.stations?.includes(station)) continue;
    if (u.level === 'L3') {
      const g = workerQueueGrants(u.name, queue, js);
      // Workers at the station ask one another locally (lf.asks): not across the link.
      publish.push(...g.publish.filter((s) => s !== `lf.asks.${queue}`));
      subscribe.push(`_INBOX_${u.name}.>`, `lf.levels.${queue}.>`);
      workers.push(u.name);
    } else {
      const g = personGrants(u.name, u.level === 'L0' || u.level === 'L1', js);
      publish.push(...g.publish);
      subscribe.push(...g.subscribe);
      people.push(u.name);
    }
  }
  if (workers.length > 0) publish.unshift(...attemptKeyReads(js));
  // nats-server 2.9 tells a leaf node of the hub's interest in a stream's wildcard subjects (lf.approvals.>) only when
  // an allowed subject under it has a literal token where the stream's has the wildcard, which
  // lf.approvals.*.*.<person> does not: without this one literal subject (no approval: an approval's subject has five
  // tokens) the station's people's approvals would not cross at all.
  if (people.length > 0) publish.push(`lf.approvals.${linkUser(station)}`);
  // Nothing at all when the file names no one at the station: a link that carries nothing.
  const pub = publish.length ? [...new Set(publish)] : [`lf.none.${station}`];
  const sub = subscribe.length ? [...new Set(subscribe)] : [`lf.none.${station}`];
  return { text: `{\n          publish: ${list(pub)}\n          subscribe: ${list(sub)}\n        }`, people, workers };
}

/** Every station a user of the file names, sorted. */
export function stationsOf(users: ReadonlyMap<string, UserRecord>): string[] {
  return [...new Set([...users.values()].flatMap((u) => u.stations ?? []))].sort();
}
