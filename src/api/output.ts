/** `output_to`: a task's output written as YAML where the definition says (an effect at the edge). */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export async function writeOutputFile(path: string, output: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, stringify(output, { aliasDuplicateObjects: false }));
}
