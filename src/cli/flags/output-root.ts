/** Where `output_to` files may go: --output-root, else LEDGERFLOW_OUTPUT_ROOT, else the current directory; checked before anything runs. */
import { outputWriter, type OutputWriter } from '../../files/index.js';

export function outputRootFlag(flag: string | undefined): string | undefined {
  return flag ?? (process.env.LEDGERFLOW_OUTPUT_ROOT || undefined);
}

export function outputFlag(flag: string | undefined): OutputWriter {
  return outputWriter(outputRootFlag(flag), flag !== undefined ? '--output-root' : 'LEDGERFLOW_OUTPUT_ROOT');
}
