import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Every run log in the store holds only lines of its own run, and how many lines there are in all. */
export async function foreignLines(storeDir: string): Promise<{ foreign: string[]; lines: number }> {
  const runsDir = join(storeDir, 'runs');
  const foreign: string[] = [];
  let lines = 0;
  for (const f of await readdir(runsDir)) {
    if (!f.endsWith('.jsonl')) continue;
    const runId = f.slice(0, -'.jsonl'.length);
    for (const line of (await readFile(join(runsDir, f), 'utf8')).split('\n')) {
      if (line === '') continue;
      lines++;
      const ids = [...line.matchAll(/"runId":"([^"]+)"/g)].map((m) => m[1]);
      if (ids.some((id) => id !== runId)) foreign.push(`${f}: ${line.slice(0, 120)}`);
    }
  }
  return { foreign, lines };
}
