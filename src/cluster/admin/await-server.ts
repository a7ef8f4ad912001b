/**
 * A long-running process (`ledgerflow engine`, `ledgerflow worker`) started before its NATS server: it waits for the
 * server instead of exiting at once, as a service started beside it (compose, systemd, Kubernetes) needs. One-shot
 * commands (`start`, `status`) still fail at once: a person typed them and wants the answer now.
 *
 * Only an unreachable server is waited for (refused, timed out, no route, not answering yet), and JetStream not ready
 * yet. A server that answers and refuses the credentials, has no JetStream, or a URL that is not one, is the user's to
 * fix: thrown at once, as before.
 */
import { errorMessage, permissionDenied, StoreError } from '../../errors/index.js';
import { connectRefusal, isConnectRefusal, parseServers } from '../../store/index.js';
import { probeServer } from './nats-server.js';

export interface AwaitServerOptions {
  /** A line for the operator: the first failure, then one every `sayEveryMs` while it lasts, then the server's arrival. */
  say: (line: string) => void;
  /** How often a wait that goes on is said again (default 30 s). */
  sayEveryMs?: number;
  /** The longest pause between two tries (default 5 s); the first is 250 ms, doubling. */
  maxPauseMs?: number;
}

/**
 * Resolves once the server at `servers` (a --nats URL, credentials in it) accepts a connection and JetStream answers;
 * returns how long it waited (0: it was there). `who` names the process in the lines said ("engine 4242").
 */
export async function awaitServer(servers: string, who: string, o: AwaitServerOptions): Promise<number> {
  const { servers: list, ...auth } = parseServers(servers);
  const shown = list.join(',');
  const began = Date.now();
  let saidAt = 0;
  for (let pause = 250; ; pause = Math.min(pause * 2, o.maxPauseMs ?? 5_000)) {
    // What is not there yet: the server, until a connection is made; then its JetStream.
    let missing = `NATS at ${shown} is not reachable yet`;
    let jetStream: boolean;
    try {
      jetStream = await probeServer(list, auth, async (nc, jsm) => {
        // A station's leaf, named with ?domain=, has no JetStream of its own: it reaches its hub's, asked as any other.
        if (auth.domain === undefined && nc.info?.jetstream !== true) return false;
        missing = `JetStream at ${shown} is not ready yet`;
        // On a cluster just started the meta leader is elected seconds after the first node takes connections, and
        // the process's start (its streams, consumers and buckets) would fail meanwhile. A user that may not ask
        // ($JS.API.INFO) has reached the server: the rest is its own start's to wait for.
        await jsm.getAccountInfo().catch((err: unknown) => {
          if (permissionDenied(err) === null) throw err;
        });
        return true;
      });
    } catch (err) {
      // The server answered: the credentials or the URL are the user's to fix, said as every command says it.
      if (isConnectRefusal(err)) throw connectRefusal(err, shown, Boolean(auth.user || auth.token));
      const now = Date.now();
      if (saidAt === 0 || now - saidAt >= (o.sayEveryMs ?? 30_000)) {
        o.say(
          saidAt === 0
            ? `${who}: ${missing} (${errorMessage(err)}); waiting for it (Ctrl-C stops)`
            : `${who}: still waiting (${Math.round((now - began) / 1000)} s): ${missing} (${errorMessage(err)})`,
        );
        saidAt = now;
      }
      // Ctrl-C meanwhile ends the process as any signal does: nothing is held yet.
      await new Promise((r) => setTimeout(r, pause));
      continue;
    }
    // A server without JetStream at all is refused at once, as every command refuses it.
    if (!jetStream)
      throw new StoreError(
        `NATS at ${shown} has no JetStream: start nats-server with -js (or a jetstream {} block in its config), as \`ledgerflow dev\` does`,
        { servers: shown },
      );
    const waited = Date.now() - began;
    if (saidAt > 0) o.say(`${who}: NATS at ${shown} answers after ${Math.round(waited / 1000)} s; starting`);
    return waited;
  }
}
