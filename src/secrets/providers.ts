/**
 * Where secrets' values come from: the environment (`LEDGERFLOW_SECRET_<NAME>`), a file (`--secrets <file>`, a YAML or
 * JSON map of names to values, refused when its group or others may read it) and, on NATS, a KV bucket (kv.ts). An
 * edge: the core never sees a value (src/expressions keeps `${secrets.NAME}` as a reference).
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { parse } from 'yaml';
import { LedgerflowError, UsageError } from '../errors/index.js';
import { SECRET_NAME_PATTERN } from '../expressions/index.js';

/** What an attempt's edge reads secrets from. */
export interface SecretsProvider {
  /** What it is, for messages: `environment`, `file /path`, `NATS KV LF_SECRETS`. */
  readonly label: string;
  get(name: string): Promise<string | undefined>;
  /** Every value of the name, the first provider's first (a chain's): where one provider's hides another's. */
  getAll?(name: string): Promise<string[]>;
}

/** Every value a provider has for the name: its getAll, else its one value. */
export async function allValues(p: SecretsProvider, name: string): Promise<string[]> {
  if (p.getAll) return p.getAll(name);
  const v = await p.get(name);
  return v === undefined ? [] : [v];
}

/** A provider `ledgerflow secrets` can change: names only are ever listed. */
export interface SecretsStore extends SecretsProvider {
  names(): Promise<string[]>;
  set(name: string, value: string): Promise<void>;
  /** false: there was no such secret. */
  rm(name: string): Promise<boolean>;
}

export const SECRET_ENV_PREFIX = 'LEDGERFLOW_SECRET_';

/** Refuses a name `${secrets.NAME}` could not name. */
export function checkSecretName(name: string): string {
  if (!SECRET_NAME_PATTERN.test(name)) {
    throw new LedgerflowError(
      'LF_SECRET_NAME_INVALID',
      `"${name.slice(0, 140)}" is not a secret name: letters, digits and _, not starting with a digit, at most 128 characters (as in \${secrets.NAME})`,
      {},
    );
  }
  return name;
}

/** `LEDGERFLOW_SECRET_<NAME>` of this process's environment. */
export function envSecrets(env: Readonly<Record<string, string | undefined>> = process.env): SecretsProvider {
  return { label: 'environment', get: async (name) => env[`${SECRET_ENV_PREFIX}${name}`] };
}

/** The first provider that has the secret. */
export function chainSecrets(...providers: SecretsProvider[]): SecretsProvider {
  return {
    label: providers.map((p) => p.label).join(', then '),
    async get(name) {
      for (const p of providers) {
        const v = await p.get(name);
        if (v !== undefined) return v;
      }
      return undefined;
    },
    async getAll(name) {
      const out: string[] = [];
      for (const p of providers) out.push(...(await allValues(p, name)));
      return out;
    },
  };
}

function modeError(file: string, mode: number): LedgerflowError {
  const octal = (mode & 0o777).toString(8).padStart(3, '0');
  return new LedgerflowError(
    'LF_SECRETS_FILE_MODE',
    `the secrets file ${file} has mode ${octal}: its group or others may read or write it, so it is not read; run \`chmod 600 ${file}\``,
    { file, mode: octal },
  );
}

/** Reads the map; refuses a file others may read (checked on the open file, not the path). */
function readSecretsFile(file: string): Record<string, string> {
  let text: string;
  const fd = (() => {
    try {
      return openSync(file, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      throw new UsageError(`cannot read the secrets file ${file}: ${code ?? String(err)}`, { file });
    }
  })();
  if (fd === null) return {};
  try {
    const st = fstatSync(fd);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) throw modeError(file, st.mode);
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  let doc: unknown;
  try {
    doc = text.trim() === '' ? {} : parse(text, { maxAliasCount: 0 });
  } catch (err) {
    throw new LedgerflowError(
      'LF_SECRETS_FILE_INVALID',
      `the secrets file ${file} is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`,
      { file },
    );
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new LedgerflowError(
      'LF_SECRETS_FILE_INVALID',
      `the secrets file ${file} must be a map of names to values (NAME: value)`,
      { file },
    );
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    // The message names the key, never its value.
    if (!SECRET_NAME_PATTERN.test(k))
      throw new LedgerflowError(
        'LF_SECRETS_FILE_INVALID',
        `the secrets file ${file} has "${k.slice(0, 140)}", which is not a secret name (letters, digits and _)`,
        { file },
      );
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      throw new LedgerflowError('LF_SECRETS_FILE_INVALID', `the secrets file ${file}: the value of ${k} must be text`, {
        file,
      });
    out[k] = String(v);
  }
  return out;
}

/** Writes the map anew (mode 600, then renamed over the old one: a reader sees the old file or the new). */
function writeSecretsFile(file: string, map: Record<string, string>): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(
      fd,
      `${JSON.stringify(
        Object.fromEntries(
          Object.keys(map)
            .sort()
            .map((k) => [k, map[k]]),
        ),
        null,
        2,
      )}\n`,
    );
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** A secrets file (YAML or JSON: NAME → value), read anew on every lookup so that `secrets set` takes effect at the next attempt. */
export function fileSecrets(file: string): SecretsStore {
  return {
    label: `file ${file}`,
    get: async (name) => readSecretsFile(file)[name],
    names: async () => Object.keys(readSecretsFile(file)).sort(),
    async set(name, value) {
      checkSecretName(name);
      // A file that exists is checked (its mode) before it is rewritten; a new one is made 600.
      const map = existsSync(file) ? readSecretsFile(file) : {};
      map[name] = value;
      writeSecretsFile(file, map);
    },
    async rm(name) {
      checkSecretName(name);
      if (!existsSync(file)) return false;
      const map = readSecretsFile(file);
      if (!Object.hasOwn(map, name)) return false;
      delete map[name];
      writeSecretsFile(file, map);
      return true;
    },
  };
}

/** Checks a secrets file at start-up (a command given `--secrets`): its mode and its map, so a bad file is refused before anything runs. */
export function checkSecretsFile(file: string): void {
  if (!existsSync(file))
    throw new UsageError(
      `there is no secrets file ${file}: make it with \`ledgerflow secrets set NAME --secrets ${file}\` (the value on stdin)`,
      { file },
    );
  if (statSync(file).isDirectory()) throw new UsageError(`the secrets file ${file} is a directory`, { file });
  readSecretsFile(file);
}

/** The provider of a process given no other: the file LEDGERFLOW_SECRETS_FILE names (if set), then the environment. */
export function defaultSecrets(env: Readonly<Record<string, string | undefined>> = process.env): SecretsProvider {
  const file = env.LEDGERFLOW_SECRETS_FILE;
  return file ? chainSecrets(fileSecrets(file), envSecrets(env)) : envSecrets(env);
}
