/**
 * `verify --save`: each counter-example appended as an expectation to the definition's expectations file, so
 * `ledgerflow test` runs the same path. What the file holds already stays byte for byte: the new entries are written
 * after the last one, indented as it is; a file that does not exist yet is created.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Document, isSeq, parseDocument } from 'yaml';
import { expectationsFileFor, parseExpectations, type Expectation } from '../../coverage/index.js';
import type { Definition } from '../../definition/index.js';
import { UsageError } from '../../errors/index.js';

/** An expectation as it is written: without the parts that say nothing (empty maps). */
function entry(e: Expectation): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(e).filter(([, v]) => !(v && typeof v === 'object' && Object.keys(v).length === 0)),
  );
}

const entriesText = (list: Expectation[]) => new Document(list.map(entry)).toString({ lineWidth: 0 });

/** Appends the expectations whose names the file does not have yet; answers the file and the names written. */
export function saveExpectations(
  definitionFile: string,
  def: Definition,
  found: Expectation[],
): { file: string; saved: string[] } {
  const file = expectationsFileFor(definitionFile);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    const head = `# Expectations for ../${basename(definitionFile)}: counter-examples saved by \`ledgerflow verify --save\`.\n`;
    writeFileSync(file, `${head}${new Document({ expectations: found.map(entry) }).toString({ lineWidth: 0 })}`);
    return { file, saved: found.map((e) => e.name) };
  }
  const text = readFileSync(file, 'utf8');
  const known = new Set(parseExpectations(text, def, file).map((e) => e.name));
  const fresh = found.filter((e) => !known.has(e.name));
  if (fresh.length === 0) return { file, saved: [] };
  const doc = parseDocument(text);
  const seq = doc.get('expectations', true);
  if (!isSeq(seq) || seq.flow || seq.items.length === 0 || !seq.range) {
    // `expectations: []` or the like: no block list to continue, so the list is written anew.
    if (isSeq(seq)) for (const e of fresh) seq.add(doc.createNode(entry(e)));
    else doc.set('expectations', fresh.map(entry));
    writeFileSync(file, doc.toString({ lineWidth: 0 }));
    return { file, saved: fresh.map((e) => e.name) };
  }
  // After the list's last entry (its value end: comments and blank lines after it stay where they are).
  const end = seq.range[1];
  const lineStart = text.lastIndexOf('\n', seq.range[0] - 1) + 1;
  const indent = ' '.repeat(seq.range[0] - lineStart);
  const added = entriesText(fresh)
    .trimEnd()
    .split('\n')
    .map((l) => (l ? indent + l : l))
    .join('\n');
  const before = text.slice(0, end);
  const next = `${before}${before.endsWith('\n') ? '' : '\n'}\n${added}\n${text.slice(end)}`;
  if (parseExpectations(next, def, file).length !== known.size + fresh.length)
    throw new UsageError(`${file}: could not append to its expectations list; add the counter-examples by hand`, {
      file,
    });
  writeFileSync(file, next);
  return { file, saved: fresh.map((e) => e.name) };
}
