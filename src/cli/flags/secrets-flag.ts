/** `--secrets <file>` of run, resume, retry and worker (docs/operations.md#secrets). */
import { resolve } from 'node:path';
import { checkSecretsFile, defaultSecrets, type SecretsProvider } from '../../secrets/index.js';

/** The provider `--secrets <file>` names (checked now: mode and map), then the environment; undefined: the default. */
export function secretsFlag(file: string | undefined): SecretsProvider | undefined {
  if (file === undefined) return undefined;
  const path = resolve(file);
  checkSecretsFile(path);
  // What the default provider reads: child runs driven here too. A COMMAND's program is not given it (src/handlers/command.ts).
  process.env.LEDGERFLOW_SECRETS_FILE = path;
  return defaultSecrets();
}
