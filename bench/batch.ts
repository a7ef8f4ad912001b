/**
 * The seed's batch claim ("10 folders in 40 s instead of 7.5 minutes"),
 * reproduced on the embedded file store: `folders` generated folders of
 * `files` files each (deterministic names and contents, in a temp dir; a
 * policy some pass and some fail), validated
 *
 *   (a) batch: one run of definitions/batch-inventory-validation.yaml over the
 *       parent folder (one policy load, a MAP over the folders, one summary);
 *   (b) sequential: one run of definitions/inventory-validation.yaml per
 *       folder, one after the other (the seed's way);
 *   (c) the floor: a plain loop doing the same work without ledgerflow, with
 *       the handlers' own exported functions (loadPolicy once, then per folder
 *       scanFolder, validate, writeReceipt), one folder after the other.
 *
 * Each is the best of `rounds` rounds, interleaved (a slow stretch of a shared
 * machine costs each side a round). Runs through Engine.run, as `ledgerflow
 * run` does, without the CLI's process start. Alone: `npm run bench -- batch`
 * (FOLDERS=10 FILES=3000 ROUNDS=3 change the size).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadDefinitionFile } from '../src/files/index.js';
import type { Handlers } from '../src/runtime/index.js';
import { Engine } from '../src/local/index.js';
import { FileEventStore } from '../src/store/index.js';
import batchHandlers from '../definitions/handlers/batch-inventory.js';
import inventoryHandlers, {
  loadPolicy,
  RECEIPT_NAME,
  scanFolder,
  validate,
  writeReceipt,
} from '../definitions/handlers/inventory.js';
import { discard } from './kit.js';

const now = () => performance.now();
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface BatchBench {
  folders: number;
  filesPerFolder: number;
  statuses: Record<string, string>;
  batchMs: number;
  sequentialMs: number;
  floorMs: number;
  floorConcurrentMs: number;
  mapConcurrency: number;
  rounds: { batchMs: number; sequentialMs: number; floorMs: number; floorConcurrentMs: number }[];
}

/** Folder k's status by design: most pass; 3 miss the recommended changelog (FAIL_SOFT); 7 holds a forbidden .env (FAIL_STRICT); 9 lacks its LICENSE (FAIL_STRICT). */
function designOf(k: number): 'PASS' | 'FAIL_SOFT' | 'FAIL_STRICT' {
  return k === 3 ? 'FAIL_SOFT' : k === 7 || k === 9 ? 'FAIL_STRICT' : 'PASS';
}

/** Deterministic files: `data/mod-<m>/file-<i>.txt`, 20 modules, each body a few hundred bytes derived from (k, i). */
function generate(parent: string, folders: number, files: number): void {
  for (let k = 0; k < folders; k++) {
    const dir = join(parent, `folder-${String(k).padStart(2, '0')}`);
    const design = designOf(k);
    mkdirSync(join(dir, 'docs'), { recursive: true });
    writeFileSync(join(dir, 'README.md'), `# Folder ${k}\n`);
    writeFileSync(join(dir, 'manifest.yaml'), `folder: ${k}\nfiles: ${files}\n`);
    if (!(k === 9 && design === 'FAIL_STRICT')) writeFileSync(join(dir, 'LICENSE'), 'MIT\n');
    if (design !== 'FAIL_SOFT') writeFileSync(join(dir, 'docs', 'CHANGELOG.md'), '## 1.0\n');
    if (k === 7) writeFileSync(join(dir, '.env'), 'SECRET=1\n');
    for (let m = 0; m < 20; m++) mkdirSync(join(dir, 'data', `mod-${m}`), { recursive: true });
    for (let i = 0; i < files; i++) {
      const line = `folder ${k} file ${i} ${(k * 7919 + i * 104729) % 1000003}\n`;
      writeFileSync(join(dir, 'data', `mod-${i % 20}`, `file-${i}.txt`), line.repeat(4 + (i % 8)));
    }
  }
}

const POLICY = `required_files: [README.md, LICENSE, manifest.yaml]\nrecommended_files: [docs/CHANGELOG.md]\nforbidden_files: [.env]\n`;

export async function benchBatch(opts: {
  say: (line: string) => void;
  fmt: (n: number, d?: number) => string;
  folders?: number;
  files?: number;
  rounds?: number;
}): Promise<BatchBench> {
  const { say, fmt } = opts;
  const folders = opts.folders ?? 10;
  const files = opts.files ?? 3000;
  const roundsWanted = opts.rounds ?? 3;
  const tmp = mkdtempSync(join(tmpdir(), 'lf-bench-batch-'));
  try {
    const parent = join(tmp, 'folders');
    const t0 = now();
    generate(parent, folders, files);
    const genMs = now() - t0;
    const policyFile = join(tmp, 'POLICY.yaml');
    writeFileSync(policyFile, POLICY);
    const folderList = Array.from({ length: folders }, (_, k) => join(parent, `folder-${String(k).padStart(2, '0')}`));

    const batchDef = loadDefinitionFile(join(ROOT, 'definitions/batch-inventory-validation.yaml')).definition;
    const singleDef = loadDefinitionFile(join(ROOT, 'definitions/inventory-validation.yaml')).definition;
    const writeOutput = async (path: string, output: unknown) => {
      const target = join(tmp, 'out', path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, stringify(output));
    };
    let storeN = 0;
    const freshEngine = () => {
      const store = new FileEventStore(join(tmp, `store-${storeN++}`));
      return { store, engine: new Engine({ store, writeOutput }) };
    };

    const statuses: Record<string, string> = {};
    const batch = async () => {
      const { store, engine } = freshEngine();
      const t = now();
      const view = await engine.run(
        batchDef,
        { parent_folder: parent, policy_file: policyFile },
        { handlers: batchHandlers as Handlers },
      );
      const ms = now() - t;
      await store.close();
      if (view.status !== 'COMPLETED') throw new Error(`batch run ${view.runId} ended ${view.status}`);
      const per = view.output as { folders?: unknown; counts?: Record<string, number> };
      statuses.batch = `${view.status}, ${JSON.stringify(per.counts)}`;
      return ms;
    };
    const sequential = async () => {
      const { store, engine } = freshEngine();
      const ended: string[] = [];
      const t = now();
      for (const folder of folderList) {
        // A strict failure waits for the commander's approval (maxTimerWaitMs 0: return then, the validation is done).
        const view = await engine.run(
          singleDef,
          { target_folder: folder, policy_file: policyFile },
          { handlers: inventoryHandlers as Handlers, maxTimerWaitMs: 0, follow: false },
        );
        ended.push(`${view.status}`);
      }
      const ms = now() - t;
      await store.close();
      const counts: Record<string, number> = {};
      for (const s of ended) counts[s] = (counts[s] ?? 0) + 1;
      statuses.sequential = JSON.stringify(counts);
      return ms;
    };
    /** `concurrency` 1: the plain sequential script; the MAP's max_concurrency: the same work as concurrent as the batch's. */
    const floor = async (concurrency: number) => {
      const t = now();
      const rules = await loadPolicy(policyFile);
      const counts: Record<string, number> = {};
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < folderList.length) {
            const folder = folderList[next++]!;
            const { files: list } = await scanFolder(folder);
            const result = validate(list, rules);
            await writeReceipt(folder, RECEIPT_NAME, { workflow: 'floor', ...result });
            counts[result.compliance_status] = (counts[result.compliance_status] ?? 0) + 1;
          }
        }),
      );
      const ms = now() - t;
      statuses.floor = JSON.stringify(counts);
      return ms;
    };
    const mapTask = batchDef.tasks.find((t) => t.id === 'validate_each');
    const mapConcurrency = (mapTask?.type === 'MAP' ? mapTask.maxConcurrency : undefined) ?? 8;

    await floor(1); // warm-up: the page cache, the JIT
    const rounds: BatchBench['rounds'] = [];
    const sides = [
      ['floorMs', () => floor(1)],
      ['floorConcurrentMs', () => floor(mapConcurrency)],
      ['batchMs', batch],
      ['sequentialMs', sequential],
    ] as const;
    for (let r = 0; r < roundsWanted; r++) {
      // Each round starts with another side, so no side always follows the same one (the page cache, a GC).
      const round = { floorMs: 0, floorConcurrentMs: 0, batchMs: 0, sequentialMs: 0 };
      for (let i = 0; i < sides.length; i++) {
        const [name, measure] = sides[(i + r) % sides.length]!;
        round[name] = await measure();
      }
      rounds.push(round);
    }
    const best = (k: keyof BatchBench['rounds'][number]) => Math.min(...rounds.map((r) => r[k]));
    const res: BatchBench = {
      folders,
      filesPerFolder: files,
      statuses,
      batchMs: best('batchMs'),
      sequentialMs: best('sequentialMs'),
      floorMs: best('floorMs'),
      floorConcurrentMs: best('floorConcurrentMs'),
      mapConcurrency,
      rounds,
    };

    say(
      `\nbatch validation, the seed's claim: ${folders} folders of ${fmt(files + 4)} files (generated in ${fmt(genMs / 1000, 1)} s), embedded file store, best of ${roundsWanted}:`,
    );
    say(
      `  floor: a plain loop over the handlers' functions (no ledgerflow)   ${fmt(res.floorMs)} ms   ${statuses.floor}`,
    );
    say(
      `  floor, ${mapConcurrency} folders at a time (the MAP's max_concurrency)               ${fmt(res.floorConcurrentMs)} ms`,
    );
    say(
      `  (a) batch-inventory-validation, one run, MAP over the folders      ${fmt(res.batchMs)} ms   ${statuses.batch}`,
    );
    say(
      `  (b) inventory-validation, ${folders} sequential runs                    ${fmt(res.sequentialMs)} ms   run statuses ${statuses.sequential}`,
    );
    say(
      `  batch ÷ sequential ${fmt(res.batchMs / res.sequentialMs, 2)}   batch ÷ floor ${fmt(res.batchMs / res.floorMs, 2)}   sequential ÷ floor ${fmt(res.sequentialMs / res.floorMs, 2)}   batch ÷ floor at ${mapConcurrency} ${fmt(res.batchMs / res.floorConcurrentMs, 2)}`,
    );
    return res;
  } finally {
    discard(tmp);
  }
}
