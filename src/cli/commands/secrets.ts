/**
 * `ledgerflow secrets set|list|rm`: the secrets `${secrets.NAME}` reads (docs/operations.md#secrets). With
 * `--secrets <file>` (or LEDGERFLOW_SECRETS_FILE) the file (made mode 600); with --nats, the KV bucket LF_SECRETS,
 * which only engine and worker users may read and write. A value is read from stdin, never from a flag (it would be in
 * the shell's history and `ps`); `list` prints names only.
 */
import { resolve } from 'node:path';
import { text } from 'node:stream/consumers';
import { LedgerflowError, UsageError } from '../../errors/index.js';
import { checkSecretName, fileSecrets, kvSecrets, type SecretsStore } from '../../secrets/index.js';
import { connect, inboxPrefixFor, parseServers } from '../../store/index.js';
import { inert } from '../../terminal/index.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';
import { usesNats, type GlobalOpts } from '../flags/store.js';

type Opts = { secrets?: string; json?: boolean };

/** The store the command changes, and how to let go of it (also `keys rotate`'s: `command` names it in the error). */
export async function storeOf(
  g: GlobalOpts,
  o: Opts,
  create: boolean,
  command = 'ledgerflow secrets',
): Promise<{ store: SecretsStore; where: string; close: () => Promise<void> }> {
  const file = o.secrets ?? (process.env.LEDGERFLOW_SECRETS_FILE || undefined); // set but empty: no file
  if (file !== undefined) {
    const path = resolve(file);
    return { store: fileSecrets(path), where: path, close: async () => {} };
  }
  if (!usesNats(g))
    throw new UsageError(
      `${command} needs a place to keep the secrets: --secrets <file> (or LEDGERFLOW_SECRETS_FILE), or --nats <url> for the KV bucket LF_SECRETS (the environment's LEDGERFLOW_SECRET_<NAME> are set where a process starts, not here)`,
    );
  const { natsUrl } = await import('./cluster.js');
  const s = parseServers(natsUrl(g));
  const nc = await connect({
    servers: s.servers,
    ...(s.user ? { user: s.user, pass: s.pass } : {}),
    ...(s.token ? { token: s.token } : {}),
    inboxPrefix: inboxPrefixFor(s.user),
    name: 'ledgerflow-secrets',
    timeout: 5000,
  });
  return {
    store: kvSecrets(nc, { create }),
    where: 'NATS KV LF_SECRETS',
    close: () => nc.drain().catch(() => undefined),
  };
}

/** The value piped in: all of stdin, one trailing newline dropped (`printf '%s' "$V"` and `echo "$V"` give the same). */
async function valueFromStdin(name: string): Promise<string> {
  if (process.stdin.isTTY)
    throw new UsageError(
      `ledgerflow secrets set ${name} reads the value from stdin: pipe it in (printf '%s' "$VALUE" | ledgerflow secrets set ${name} …); it is never a flag`,
    );
  const v = (await text(process.stdin)).replace(/\r?\n$/, '');
  if (v === '') throw new UsageError(`ledgerflow secrets set ${name} read no value from stdin`);
  return v;
}

export async function secretsSetCmd(io: Io, g: GlobalOpts, name: string, o: Opts): Promise<number> {
  checkSecretName(name);
  const value = await valueFromStdin(name);
  const s = await storeOf(g, o, true);
  try {
    await s.store.set(name, value);
  } finally {
    await s.close();
  }
  if (o.json) io.out(json({ name, stored: true, where: s.where }));
  else
    io.out(`stored secret ${inert(name)} in ${inert(s.where)} (attempts read it when they start: \${secrets.${name}})`);
  return EXIT.ok;
}

export async function secretsListCmd(io: Io, g: GlobalOpts, o: Opts): Promise<number> {
  const s = await storeOf(g, o, false);
  let names: string[];
  try {
    names = await s.store.names();
  } finally {
    await s.close();
  }
  if (o.json) io.out(json({ where: s.where, names }));
  else if (names.length === 0) io.out(`no secrets in ${inert(s.where)}`);
  else for (const n of names) io.out(inert(n));
  return EXIT.ok;
}

export async function secretsRmCmd(io: Io, g: GlobalOpts, name: string, o: Opts): Promise<number> {
  checkSecretName(name);
  const s = await storeOf(g, o, false);
  let removed: boolean;
  try {
    removed = await s.store.rm(name);
  } finally {
    await s.close();
  }
  if (!removed) throw new LedgerflowError('LF_SECRET_NOT_FOUND', `no secret ${name} in ${s.where}`, { name });
  if (o.json) io.out(json({ name, removed: true, where: s.where }));
  else io.out(`removed secret ${inert(name)} from ${inert(s.where)}`);
  return EXIT.ok;
}
