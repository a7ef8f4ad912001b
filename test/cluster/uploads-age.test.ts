/**
 * LF_UPLOADS forgets an upload no start followed (cluster/transport/uploads.ts): made with a 15-minute max age, and a
 * stream an older version made (a week's max age, or none) given it when the cluster is set up; a max age an operator
 * chose is kept. Its duplicate window stays within the max age, as the server requires.
 */
import { describe, expect, it } from 'vitest';
import { ensureCluster } from '../../src/cluster/index.js';
import { UPLOADS_LIMITS, UPLOADS_STREAM } from '../../src/cluster/transport/uploads.js';
import { noNats, useCluster } from '../helpers/cluster.js';

const ns = (ms: number) => ms * 1_000_000;

describe.skipIf(noNats)('LF_UPLOADS max age', () => {
  const c = useCluster();

  it('is 15 minutes on a new stream, on one an older version made (a week, or none), and an operator’s own is kept', async () => {
    const jsm = await c.jsm();
    const uploads = async () => (await jsm.streams.info(UPLOADS_STREAM.name)).config;
    await ensureCluster(jsm);
    expect(UPLOADS_LIMITS.maxAgeMs).toBe(15 * 60_000);
    let config = await uploads();
    expect(config.max_age).toBe(ns(15 * 60_000));
    expect(config.duplicate_window).toBeLessThanOrEqual(config.max_age);

    const remake = async (max_age: number) => {
      await jsm.streams.delete(UPLOADS_STREAM.name);
      await jsm.streams.add({ ...config, max_age, duplicate_window: ns(10 * 60_000) });
    };
    for (const older of [ns(UPLOADS_LIMITS.olderMaxAgeMs), 0]) {
      await remake(older);
      await ensureCluster(jsm);
      expect((await uploads()).max_age, `made with max_age ${older}`).toBe(ns(15 * 60_000));
    }
    await remake(ns(3600_000));
    await ensureCluster(jsm);
    config = await uploads();
    expect(config.max_age).toBe(ns(3600_000));
  });
});
