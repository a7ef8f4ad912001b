/**
 * `ledgerflow users nats-conf`: the users file as nats-server's account block (docs/users.md#on-nats), each user with
 * the bcrypt hash of their password and the permissions of their level, so the server refuses before any engine sees it
 * what the level may not publish:
 *
 * - L0 Commander, L1 CMD.BRIDGE: approvals, signals, control messages (pause, resume, cancel), start (and retry),
 *   deploy, limits and upkeep (archive, restore, blob gc, keys rotate) requests as themselves, and reading the log.
 * - L2 Station OPS: approvals (engines judge each task's agent_level), signals and start requests (engines judge the
 *   workflow's domain) as themselves, and reading the log; no control messages, no deploys. Upkeep requests too, which
 *   the engines refuse in the embedded store's words (LF_AUTHORITY_REFUSED: they ask for L1).
 * - L3 Worker: the task attempts of its queues (`queues:`, default the default queue) and nothing else: no approvals,
 *   no reading the log.
 * - The engine user (`--engine`, default `engine`): everything.
 * - A station's link, `leaf-<station>` with `stations: [<station>]`: may link that station's leaf node and nothing
 *   else, carrying only the subjects of the station's people and workers (station-links.ts). No other user may link a
 *   leaf node.
 *
 * Pure: the file's users in, the text out.
 */
import { DEFAULT_QUEUE } from '../definition/index.js';
import { LEAF_ONLY, linkOf, linkPermissions, NOT_A_LEAF, stationsOf } from './station-links.js';
import { linkUser, type UserRecord } from './file.js';
import { attemptKeyReads, jsSubjects, list, personGrants, q, workerQueueGrants, type Js } from './nats-conf-grants.js';

/** The account ledgerflow's streams live in (nats.conf's `LF`). */
export const NATS_ACCOUNT = 'LF';

export interface NatsConf {
  text: string;
  left: Array<{ name: string; why: string }>;
}

/** A name that is one subject token (the approver is the subject's last token). */
const NATS_SAFE = /^[A-Za-z0-9_@-]+$/;

/**
 * A worker's rights on its queues: what the shipped nats.conf's `worker` and `vault` users have, per queue; the
 * secrets of KV LF_SECRETS, read by key (docs/operations.md#secrets); the live progress its attempts publish to KV
 * LF_PROGRESS; and the objects of the large payloads' bucket LF_BLOBS. People's users get no line for the first two, and read LF_BLOBS by message gets only.
 */
function workerPermissions(u: string, queues: readonly string[], js: Js): string {
  const publish = [
    ...attemptKeyReads(js),
    `${js.api}.DIRECT.GET.KV_LF_SECRETS.$KV.LF_SECRETS.>`,
    `${js.api}.STREAM.INFO.KV_LF_SECRETS`,
    // Large payloads (docs/language.md#large-payloads): its objects in the LF_BLOBS bucket, put and read, as nats.conf's worker.
    '$O.LF_BLOBS.>',
    `${js.api}.DIRECT.GET.OBJ_LF_BLOBS.>`,
    `${js.api}.STREAM.MSG.GET.OBJ_LF_BLOBS`,
    `${js.api}.CONSUMER.CREATE.OBJ_LF_BLOBS`,
    `${js.api}.CONSUMER.CREATE.OBJ_LF_BLOBS.>`,
    `${js.api}.CONSUMER.DELETE.OBJ_LF_BLOBS.>`,
    // The live progress of the attempts it runs (docs/handlers.md#progress): plain publishes, never read back.
    `${js.kv}.LF_PROGRESS.>`,
  ];
  const subscribe = [`_INBOX_${u}.>`];
  for (const queue of queues) {
    const g = workerQueueGrants(u, queue, js);
    publish.push(...g.publish);
    subscribe.push(`${g.offers} w_${queue}`, ...g.subscribe);
  }
  return `{\n          publish: ${list([...new Set(publish)])}\n          subscribe: ${list(subscribe)}\n          allow_responses: true\n        }`;
}

/**
 * The account block for `users`. A user with no NATS hash (a password set before `nats_password` was kept, or none) is
 * left out and said in `left`; so is a name NATS would read otherwise than the file (none today: the file's names are
 * subject-safe). Throws when no engine user is among them. `domain`: for a station's leaf node (no JetStream of its
 * own) whose clients reach the hub's JetStream in that domain. `hubDomain`: the hub's JetStream domain (nats.conf's
 * `hub`), through which a station's clients reach it (its link's lines).
 */
export function natsConf(
  users: ReadonlyMap<string, UserRecord>,
  opts: { engine: string; source: string; jetstream?: string; domain?: string; hubDomain?: string },
): NatsConf {
  const js = jsSubjects(opts.domain);
  const left: NatsConf['left'] = [];
  const lines: string[] = [];
  const engine = users.get(opts.engine);
  if (!engine?.natsPassword) {
    throw new Error(
      engine
        ? `${opts.engine} has no password for NATS: set it with \`ledgerflow users passwd ${opts.engine} --password-stdin\``
        : `the users file names no engine user ${opts.engine}: add it (\`ledgerflow users add ${opts.engine} --level L1 --password-stdin\`), or name another with --engine`,
    );
  }
  for (const u of [...users.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!NATS_SAFE.test(u.name)) {
      left.push({
        name: u.name,
        why: 'a name NATS subjects cannot carry (no . in a NATS user name here): add the person under another name',
      });
      continue;
    }
    if (!u.natsPassword) {
      left.push({
        name: u.name,
        why: `no password for NATS: \`ledgerflow users passwd ${u.name} --password-stdin\` gives one`,
      });
      continue;
    }
    const station = linkOf(u);
    if (station !== null) {
      if (opts.domain) {
        left.push({ name: u.name, why: `station ${station}'s link: a user of the hub's file, not of a leaf node's` });
        continue;
      }
      const link = linkPermissions(station, users, opts.hubDomain ?? 'hub', opts.engine);
      const carried = [
        link.people.length ? `people ${link.people.join(', ')}` : 'no people',
        link.workers.length ? `workers ${link.workers.join(', ')}` : 'no workers',
      ].join('; ');
      lines.push(
        `      {\n        user: ${q(u.name)}, password: ${q(u.natsPassword)}   # station ${station}'s leaf node: ${carried}\n        allowed_connection_types: ${LEAF_ONLY}\n        permissions: ${link.text}\n      }`,
      );
      continue;
    }
    const who = `user: ${q(u.name)}, password: ${q(u.natsPassword)}, allowed_connection_types: ${NOT_A_LEAF}`;
    if (u.name === opts.engine) lines.push(`      { ${who} }   # the engines: every subject`);
    else if (u.level === 'L3')
      lines.push(
        `      {\n        ${who}   # L3 Worker: queues ${(u.queues ?? [DEFAULT_QUEUE]).join(', ')}\n        permissions: ${workerPermissions(u.name, u.queues?.length ? u.queues : [DEFAULT_QUEUE], js)}\n      }`,
      );
    else {
      const { publish, subscribe } = personGrants(u.name, u.level === 'L0' || u.level === 'L1', js);
      lines.push(
        `      { ${who}, permissions: { publish: ${list(publish)}, subscribe: ${list(subscribe)} } }   # ${u.level}`,
      );
    }
  }
  if (!opts.domain) {
    // A station its people or workers act at, whose link the file lacks: no leaf node links for it (nothing of theirs crosses).
    for (const station of stationsOf(users)) {
      const link = linkUser(station);
      if (!users.has(link))
        left.push({
          name: link,
          why: `station ${station}'s link is not in the file, so no leaf node links for it: \`ledgerflow users add ${link} --level L3 --stations ${station} --password-stdin\``,
        });
    }
  }
  const text = `# Written by \`ledgerflow users nats-conf\` from ${opts.source}: regenerate it after \`ledgerflow users\` changes, then reload
# nats-server (nats-server --signal reload). Include it from nats.conf at the top level: include ./ledgerflow-users.conf
${opts.domain ? `# For a station's leaf node: its clients use the hub's JetStream through domain ${opts.domain} (docs/nats.md#stations).\n` : ''}accounts {
  ${NATS_ACCOUNT}: {
${opts.domain ? '' : `    jetstream: ${opts.jetstream ?? '{ max_streams: 1000, max_consumers: 10000 }'}\n`}    users: [
${lines.join('\n')}
    ]
  }
}
`;
  return { text, left };
}
