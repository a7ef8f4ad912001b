/**
 * The run API (src/runs/) of the store a command uses, chosen here once: the
 * embedded Runs over the in-process Engine, or the NATS Runs over a client
 * closed when the command ends; and who acts, as that store proves it.
 */
import type { Acting, StartingRuns } from '../runs/index.js';
import { actingUser } from './flags/acting.js';
import { defaultActor } from './flags/input-flags.js';
import { closeAtEnd, usesNats, type GlobalOpts } from './flags/store.js';

export async function runsFor(g: GlobalOpts): Promise<StartingRuns> {
  if (usesNats(g)) {
    // Loaded here, not at the top: a command on the embedded store never loads the nats client.
    const [{ ClusterClient, natsSettings }, { natsRuns }, { natsUrl }] = await Promise.all([
      import('../cluster/index.js'),
      import('../runs/nats.js'),
      import('./commands/cluster.js'),
    ]);
    const url = natsUrl(g);
    return natsRuns({ client: closeAtEnd(new ClusterClient(url, natsSettings())), url, fallback: defaultActor() });
  }
  const [{ embeddedRuns }, { engineFor }] = await Promise.all([import('../runs/embedded.js'), import('./drive.js')]);
  const engine = engineFor(g);
  return embeddedRuns({ engine, store: engine.store, fallback: defaultActor() });
}

/**
 * Who acts: on the embedded store the user a users file proves here (the password asked once), judged by the
 * run API; over NATS the connection's user, which `--as` names only (the server proves it).
 */
export async function actingFor(g: GlobalOpts, as: string | undefined): Promise<Acting> {
  if (usesNats(g)) return as !== undefined ? { name: as } : {};
  return actingUser(as);
}
