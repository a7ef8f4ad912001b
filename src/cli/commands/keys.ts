/**
 * `ledgerflow keys rotate` (docs/security.md#rotating-the-key): a new data key, made here, becomes LF_DATA_KEY in the
 * secrets store `secrets set` writes (the --secrets file, or KV LF_SECRETS with --nats); the one it replaces is kept
 * as LF_DATA_KEY_<id>. No key is printed: they stay where the secrets are. The bridge's (L1) where a users file says who
 * is who, judged before the secrets are opened. Over NATS a person's user, which may not write KV LF_SECRETS, asks the
 * engines instead (lf.upkeep.<user>), which judge the same level and rotate it as the engine user.
 */
import { requireAllowed } from '../../authority/index.js';
import { rotateDataKey } from '../../encryption/index.js';
import { inert } from '../../terminal/index.js';
import { requestKeyRotation } from '../../runs/index.js';
import { usesNats, type GlobalOpts } from '../flags/store.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';
import { storeOf } from './secrets.js';
import { sideFor } from '../runs.js';

export async function keysRotateCmd(
  io: Io,
  g: GlobalOpts,
  o: { secrets?: string; json?: boolean; as?: string },
): Promise<number> {
  const side = await sideFor(g);
  requireAllowed((await side.acting(o.as)).actor, 'keys');
  const file = o.secrets ?? (process.env.LEDGERFLOW_SECRETS_FILE || undefined); // set but empty: no file
  let r: Awaited<ReturnType<typeof rotateDataKey>>;
  let where: string;
  if (file === undefined && usesNats(g) && !(await side.mayWrite())) {
    const { natsUrl } = await import('./cluster.js');
    r = await requestKeyRotation(natsUrl(g));
    where = 'NATS KV LF_SECRETS';
  } else {
    const s = await storeOf(g, o, true, 'ledgerflow keys rotate');
    where = s.where;
    try {
      r = await rotateDataKey(s.store);
    } finally {
      await s.close();
    }
  }
  if (o.json) io.out(json({ id: r.id, previous: r.previous, where }));
  else
    io.out(
      `data key ${r.id} is LF_DATA_KEY in ${inert(where)}: new writes use it${
        r.previous === null
          ? ''
          : `; the key before it is kept as LF_DATA_KEY_${r.previous}, so what it sealed still reads`
      }`,
    );
  return EXIT.ok;
}
