/**
 * Handlers of the multi-agent research workflow with DO_WHILE refinement
 * (definitions/multi-agent-research.yaml): a researcher gathers the sentences
 * of a local corpus that bear on a question, a writer drafts an answer from
 * them, a reviewer scores the draft and says what to change, and the writer
 * revises until the score reaches the threshold. Deterministic: the corpus is
 * read in sorted order, rankings break ties by position, the score is
 * arithmetic on the draft, no clock and no randomness, so every round and its
 * score can be re-checked by hand.
 *
 *   gather_sources  the question's keywords and the corpus sentences that
 *                   match most of them, numbered S1, S2, ...
 *   write_draft     round 1: the three best sources, uncited, no summary;
 *                   later rounds: the previous draft with the reviewer's first
 *                   two requests applied (a writer's capacity per round)
 *   review_draft    score out of 100: keyword coverage 40, cited claims 30,
 *                   a summary 15, length within bounds 15; and the requests
 *   publish_answer / flag_for_review  the final draft with its rounds
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { NonRetryableError } from 'ledgerflow';
import type { Handlers } from 'ledgerflow';

const STOPWORDS = new Set(('about after also and any are because been before being both but can could does each every from have how into its just keep like make more most much must only other over same should some such than that the their them then there these they this those through under until very what when where which while will with within without would your').split(' '));

export interface Source { id: string; source: string; text: string; keywords: string[] }
export interface Claim { text: string; source: string; cited: boolean }
export interface Draft { round: number; claims: Claim[]; summary: string | null; words: number; covered: string[]; applied: string[] }
export interface Review { round: number; score: number; parts: Record<string, number>; requests: string[]; missing: string[] }

const MIN_WORDS = 40;
const MAX_WORDS = 220;
const REQUESTS_PER_ROUND = 2;

/** A crude, deterministic stem: enough that "changes" meets "change" and "watchers" meets "watch". */
function stem(word: string): string {
  return word.length > 5 ? word.replace(/(ing|ers|er|ed|es|s)$/, '') : word;
}
function stems(line: string): string[] {
  return (line.toLowerCase().match(/[a-z0-9][a-z0-9-]*/g) ?? []).map(stem);
}
const countWords = (s: string): number => (s.match(/\S+/g) ?? []).length;

function text(input: Record<string, unknown>, name: string): string {
  const v = input[name];
  if (typeof v !== 'string' || v === '') throw new NonRetryableError(`${name} must be a non-empty string, got ${JSON.stringify(v)}`, 'REFINE_BAD_INPUT');
  return v;
}

async function notes(root: string, dir = root): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(dir, e.name);
    if (e.isDirectory()) files.push(...(await notes(root, full)));
    else if (e.isFile() && /\.(md|txt)$/.test(e.name)) files.push(relative(root, full).split('\\').join('/'));
  }
  return files;
}

/** What the keywords of `keywords` a text mentions. */
function mentions(line: string, keywords: string[]): string[] {
  const s = new Set(stems(line));
  return keywords.filter((k) => s.has(stem(k)));
}

function coveredBy(draft: Pick<Draft, 'claims'>, keywords: string[]): string[] {
  return keywords.filter((k) => draft.claims.some((c) => mentions(c.text, [k]).length > 0));
}

function finish(round: number, claims: Claim[], summary: string | null, keywords: string[], applied: string[]): Draft {
  const words = claims.reduce((n, c) => n + countWords(c.text), 0) + (summary ? countWords(summary) : 0);
  return { round, claims, summary, words, covered: coveredBy({ claims }, keywords), applied };
}

export const handlers: Handlers = {
  async gather_sources(input, ctx) {
    const question = text(input, 'question');
    const corpus = text(input, 'corpus');
    const max = typeof input.max_sources === 'number' && input.max_sources > 0 ? Math.floor(input.max_sources) : 8;
    const keywords = [...new Set((question.toLowerCase().match(/[a-z0-9][a-z0-9-]*/g) ?? []).filter((w) => w.length >= 4 && !STOPWORDS.has(w)))];
    if (keywords.length === 0) throw new NonRetryableError(`the question has no keywords to look for: ${JSON.stringify(question)}`, 'REFINE_NO_KEYWORDS');
    let files: string[];
    try {
      files = await notes(corpus);
    } catch (err) {
      throw new NonRetryableError(`cannot read the corpus ${corpus}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'REFINE_NO_CORPUS');
    }
    const candidates: (Omit<Source, 'id'> & { order: number })[] = [];
    for (const f of files) {
      const lines = (await readFile(join(corpus, f), 'utf8')).split(/\r?\n/);
      lines.forEach((line, i) => {
        if (line.trim() === '' || line.startsWith('#')) return;
        const kws = mentions(line, keywords);
        if (kws.length > 0) candidates.push({ source: `${f}:${i + 1}`, text: line.trim(), keywords: kws, order: candidates.length });
      });
    }
    const sources: Source[] = candidates
      .sort((a, b) => b.keywords.length - a.keywords.length || a.order - b.order)
      .slice(0, max)
      .map(({ source, text: t, keywords: k }, i) => ({ id: `S${i + 1}`, source, text: t, keywords: k }));
    const coverable = keywords.filter((k) => sources.some((s) => s.keywords.includes(k)));
    ctx.log(`${keywords.length} keywords, ${candidates.length} matching sentences in ${files.length} notes, best ${sources.length} kept`);
    return { keywords, coverable, sources, considered: candidates.length, notes: files.length };
  },

  write_draft(input) {
    const sources = (Array.isArray(input.sources) ? input.sources : []) as Source[];
    const keywords = (Array.isArray(input.keywords) ? input.keywords : []).map(String);
    if (sources.length === 0) throw new NonRetryableError('no sources to draft from', 'REFINE_NO_SOURCES');
    // The loop's iterations so far: the previous round's draft and review.
    const history = (Array.isArray(input.history) ? input.history : []) as ({ write_draft?: Draft | null; review_draft?: Review | null } | null)[];
    const last = history.at(-1) ?? null;
    const previous = last?.write_draft ?? null;
    const review = last?.review_draft ?? null;
    const round = history.length + 1;
    if (!previous || !review) {
      // A first draft: the three strongest sources, in the writer's words (none), with no citations yet.
      return finish(round, sources.slice(0, 3).map((s) => ({ text: s.text, source: s.id, cited: false })), null, keywords, []);
    }
    let claims = previous.claims.map((c) => ({ ...c }));
    let summary = previous.summary;
    const applied: string[] = [];
    for (const request of review.requests.slice(0, REQUESTS_PER_ROUND)) {
      if (request === 'cite') claims = claims.map((c) => ({ ...c, cited: true }));
      else if (request.startsWith('cover:')) {
        const k = request.slice('cover:'.length);
        const used = new Set(claims.map((c) => c.source));
        const s = sources.find((x) => !used.has(x.id) && x.keywords.includes(k));
        if (!s) continue;
        claims.push({ text: s.text, source: s.id, cited: claims.length > 0 && claims.every((c) => c.cited) });
      } else if (request === 'summarise') {
        summary = `In short: the sources bear on ${coveredBy({ claims }, keywords).join(', ')}.`;
      } else if (request === 'trim') {
        claims = claims.slice(0, -1);
      } else continue;
      applied.push(request);
    }
    return finish(round, claims, summary, keywords, applied);
  },

  review_draft(input, ctx): Review {
    const draft = input.draft as Draft | null;
    if (!draft || !Array.isArray(draft.claims)) throw new NonRetryableError('review_draft needs the draft', 'REFINE_NO_DRAFT');
    const coverable = (Array.isArray(input.coverable) ? input.coverable : []).map(String);
    const covered = coverable.filter((k) => draft.covered.includes(k));
    const missing = coverable.filter((k) => !draft.covered.includes(k));
    const cited = draft.claims.filter((c) => c.cited).length;
    const parts = {
      coverage: coverable.length === 0 ? 40 : Math.round((40 * covered.length) / coverable.length),
      citations: draft.claims.length === 0 ? 0 : Math.round((30 * cited) / draft.claims.length),
      summary: draft.summary ? 15 : 0,
      length: draft.words >= MIN_WORDS && draft.words <= MAX_WORDS ? 15 : 0,
    };
    const score = parts.coverage + parts.citations + parts.summary + parts.length;
    // What to change, most important first: the writer takes the first two each round.
    const requests = [
      ...(cited < draft.claims.length ? ['cite'] : []),
      ...missing.map((k) => `cover:${k}`),
      ...(draft.summary ? [] : ['summarise']),
      ...(draft.words > MAX_WORDS ? ['trim'] : []),
    ];
    ctx.log(`round ${draft.round}: ${score}/100 (${Object.entries(parts).map(([k, v]) => `${k} ${v}`).join(', ')})`);
    return { round: draft.round, score, parts, requests, missing };
  },

  publish_answer(input) {
    return answer(input, 'accepted');
  },

  flag_for_review(input) {
    return answer(input, 'needs_review');
  },
};

function answer(input: Record<string, unknown>, verdict: 'accepted' | 'needs_review') {
  const draft = input.draft as Draft;
  const review = input.review as Review;
  const sources = (Array.isArray(input.sources) ? input.sources : []) as Source[];
  const rounds = (Array.isArray(input.rounds) ? input.rounds : []) as ({ review_draft?: Review | null } | null)[];
  const cite = (c: Claim) => (c.cited ? `${c.text} [${c.source}]` : c.text);
  return {
    verdict,
    question: input.question ?? null,
    score: review.score,
    threshold: input.threshold ?? null,
    rounds: rounds.length,
    scores: rounds.map((r) => r?.review_draft?.score ?? null),
    answer: [...draft.claims.map(cite), ...(draft.summary ? [draft.summary] : [])],
    references: sources.filter((s) => draft.claims.some((c) => c.cited && c.source === s.id)).map((s) => `${s.id}: ${s.source}`),
    open_requests: review.requests,
  };
}

export default handlers;
