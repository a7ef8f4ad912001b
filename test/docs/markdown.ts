/** Reading the project's Markdown as GitHub renders it: fenced blocks, headings and their anchors, relative links. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';

/** The pages whose links must resolve, relative to the repository root. */
export function docPages(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  return ['README.md', 'ARCHITECTURE.md', 'CONTRIBUTING.md', 'bench/RESULTS.md', ...docs.sort()];
}

/** The lines of a page outside fenced code blocks, with their 1-based line numbers. */
export function proseLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | null = null;
  text.split('\n').forEach((t, i) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(t);
    if (m) {
      if (fence === null) fence = m[1]!;
      else if (m[1]!.startsWith(fence)) fence = null;
      return;
    }
    if (fence === null) out.push({ line: i + 1, text: t });
  });
  return out;
}

/** GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces as hyphens; repeats get -1, -2, … */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { text: t } of proseLines(text)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(t);
    if (!m) continue;
    const plain = m[1]!.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const slug = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

export interface Link {
  line: number;
  target: string;
}

/** Every link and image of the prose whose target is relative (not http:, mailto:, …), inline code left out. */
export function relativeLinks(text: string): Link[] {
  const out: Link[] = [];
  for (const { line, text: t } of proseLines(text)) {
    const prose = t.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      out.push({ line, target });
    }
  }
  return out;
}

/** The lines of the fenced block that follows the HTML comment starting with `<!-- <marker>`. */
export function markedBlock(text: string, marker: string): string[] {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim().startsWith(`<!-- ${marker}`));
  if (at < 0) throw new Error(`no <!-- ${marker} --> comment`);
  const open = lines.findIndex((l, i) => i > at && /^```/.test(l));
  const close = lines.findIndex((l, i) => i > open && /^```\s*$/.test(l));
  if (open < 0 || close < 0) throw new Error(`no fenced block after <!-- ${marker} -->`);
  return lines.slice(open + 1, close);
}
