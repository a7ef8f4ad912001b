/**
 * Handlers of the research coordination workflow
 * (definitions/research-coordination.yaml, a multi-agent research task): three
 * research agents each read their topic's notes in a local corpus and report
 * what the notes say about their keywords; the aggregator puts the three
 * reports into one. Deterministic: files are read in sorted order, counts and
 * rankings break ties by position, no clock and no randomness, so a re-run of
 * an attempt gives the same output.
 *
 *   survey_corpus      the corpus's topic folders and their documents
 *   research_topic     one agent: keyword counts, the sentences with the most
 *                      keyword hits (findings, with file and line), coverage
 *   aggregate_findings the three reports side by side, the terms the topics
 *                      share, and a ranking by evidence
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NonRetryableError } from 'ledgerflow';
import type { Handlers } from 'ledgerflow';

/** Words too common to say anything about a topic. */
const STOPWORDS = new Set(('a about after again all also an and any are as at be because been before being both but by can could does each either every few for from had has have how if in instead into is it its just like may means more most much must no not now of on once one only or other others over same should so some such than that the their them then there these they this those through to too under until very was were what when where which while who why will with within without would').split(' '));

export interface Finding { source: string; line: number; text: string; hits: number; keywords: string[] }
export interface TopicReport {
  topic: string;
  documents: string[];
  words: number;
  keyword_counts: Record<string, number>;
  keywords_found: number;
  coverage_pct: number;
  top_terms: string[];
  findings: Finding[];
  confidence: 'high' | 'medium' | 'low';
}

function text(input: Record<string, unknown>, name: string): string {
  const v = input[name];
  if (typeof v !== 'string' || v === '') throw new NonRetryableError(`${name} must be a non-empty string, got ${JSON.stringify(v)}`, 'RESEARCH_BAD_INPUT');
  return v;
}

function words(line: string): string[] {
  return line.toLowerCase().match(/[a-z0-9][a-z0-9+'-]*/g) ?? [];
}

/** Occurrences of a keyword (one word or a phrase) in a line, as whole words. */
function countIn(line: string, keyword: string): number {
  const escaped = keyword.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return (line.toLowerCase().match(new RegExp(`(?<![a-z0-9])${escaped}(?![a-z0-9])`, 'g')) ?? []).length;
}

/** The text files of a folder, sorted, as [name, lines]. */
export async function readDocuments(folder: string): Promise<[string, string[]][]> {
  let names: string[];
  try {
    names = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isFile() && /\.(md|txt)$/.test(e.name)).map((e) => e.name).sort();
  } catch (err) {
    throw new NonRetryableError(`cannot read the corpus folder ${folder}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'RESEARCH_NO_CORPUS');
  }
  const docs: [string, string[]][] = [];
  for (const name of names) docs.push([name, (await readFile(join(folder, name), 'utf8')).split(/\r?\n/)]);
  return docs;
}

/** The most frequent words of the documents that are not stopwords (ties: alphabetical). */
function topTerms(docs: [string, string[]][], n: number): string[] {
  const freq = new Map<string, number>();
  for (const [, lines] of docs) for (const l of lines) if (!l.startsWith('#')) for (const w of words(l)) if (w.length > 3 && !STOPWORDS.has(w)) freq.set(w, (freq.get(w) ?? 0) + 1);
  return [...freq].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n).map(([w]) => w);
}

export const handlers: Handlers = {
  async survey_corpus(input) {
    const corpus = text(input, 'corpus');
    const topics = await readdir(corpus, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      throw new NonRetryableError(`cannot read the corpus ${corpus}: ${err.code ?? err.message}`, 'RESEARCH_NO_CORPUS');
    });
    const folders = topics.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    const documents: Record<string, number> = {};
    for (const f of folders) documents[f] = (await readDocuments(join(corpus, f))).length;
    const missing = (Array.isArray(input.expected_topics) ? input.expected_topics.map(String) : []).filter((t) => !folders.includes(t));
    if (missing.length > 0) throw new NonRetryableError(`the corpus ${corpus} has no folder for ${missing.join(', ')} (it has ${folders.join(', ') || 'none'})`, 'RESEARCH_NO_TOPIC');
    return { corpus, topics: folders, documents, total_documents: Object.values(documents).reduce((a, b) => a + b, 0) };
  },

  async research_topic(input, ctx) {
    const corpus = text(input, 'corpus');
    const topic = text(input, 'topic');
    const keywords = Array.isArray(input.keywords) ? input.keywords.map(String).filter((k) => k !== '') : [];
    if (keywords.length === 0) throw new NonRetryableError(`research_topic ${topic}: keywords must be a non-empty list`, 'RESEARCH_BAD_INPUT');
    const maxFindings = typeof input.max_findings === 'number' && input.max_findings > 0 ? Math.floor(input.max_findings) : 3;
    const docs = await readDocuments(join(corpus, topic));
    if (docs.length === 0) throw new NonRetryableError(`no .md or .txt notes in ${join(corpus, topic)}`, 'RESEARCH_NO_NOTES');

    const keyword_counts: Record<string, number> = Object.fromEntries(keywords.map((k) => [k, 0]));
    const candidates: Finding[] = [];
    let wordCount = 0;
    for (const [source, lines] of docs) {
      lines.forEach((line, i) => {
        if (line.trim() === '' || line.startsWith('#')) return;
        wordCount += words(line).length;
        const hitBy = keywords.filter((k) => countIn(line, k) > 0);
        let hits = 0;
        for (const k of keywords) { const c = countIn(line, k); keyword_counts[k]! += c; hits += c; }
        if (hits > 0) candidates.push({ source: `${topic}/${source}`, line: i + 1, text: line.trim(), hits, keywords: hitBy });
      });
    }
    // Most hits first; ties keep the corpus order (files sorted, then line), so the ranking is stable.
    const findings = candidates.map((f, i) => [f, i] as const).sort((a, b) => b[0].hits - a[0].hits || a[1] - b[1]).slice(0, maxFindings).map(([f]) => f);
    const found = keywords.filter((k) => keyword_counts[k]! > 0).length;
    const coverage_pct = Math.round((found / keywords.length) * 100);
    const report: TopicReport = {
      topic,
      documents: docs.map(([name]) => `${topic}/${name}`),
      words: wordCount,
      keyword_counts,
      keywords_found: found,
      coverage_pct,
      top_terms: topTerms(docs, 40),
      findings,
      confidence: coverage_pct >= 80 && candidates.length >= 5 ? 'high' : coverage_pct >= 50 ? 'medium' : 'low',
    };
    ctx.log(`${topic}: ${found}/${keywords.length} keywords in ${docs.length} documents, ${candidates.length} relevant sentences`);
    return report;
  },

  aggregate_findings(input) {
    // The JOIN's output: one entry per agent task, its report (null if it did not run).
    const joined = (input.findings ?? {}) as Record<string, TopicReport | null>;
    const reports = Object.entries(joined).filter((e): e is [string, TopicReport] => e[1] !== null && typeof e[1] === 'object');
    if (reports.length === 0) throw new NonRetryableError('no agent reported any findings', 'RESEARCH_NOTHING_TO_AGGREGATE');
    // Terms that several topics' notes use a lot: where the topics meet.
    const seen = new Map<string, string[]>();
    for (const [, r] of reports) for (const t of r.top_terms) seen.set(t, [...(seen.get(t) ?? []), r.topic]);
    const shared_terms = [...seen].filter(([, ts]) => ts.length > 1).map(([term, topics]) => ({ term, topics })).sort((a, b) => a.term.localeCompare(b.term));
    // Evidence: keyword hits weighted by coverage; ties by topic name.
    const ranked = reports
      .map(([agent, r]) => ({ agent, topic: r.topic, hits: Object.values(r.keyword_counts).reduce((a, b) => a + b, 0), coverage_pct: r.coverage_pct, confidence: r.confidence }))
      .map((r) => ({ ...r, evidence: Math.round((r.hits * r.coverage_pct) / 100) }))
      .sort((a, b) => b.evidence - a.evidence || a.topic.localeCompare(b.topic));
    const gaps = reports.flatMap(([, r]) => Object.entries(r.keyword_counts).filter(([, n]) => n === 0).map(([k]) => `${r.topic}: nothing on "${k}"`));
    return {
      question: typeof input.question === 'string' ? input.question : null,
      topics: reports.length,
      documents: reports.reduce((n, [, r]) => n + r.documents.length, 0),
      findings: reports.reduce((n, [, r]) => n + r.findings.length, 0),
      strongest_topic: ranked[0]!.topic,
      ranking: ranked,
      shared_terms,
      gaps,
      by_topic: Object.fromEntries(reports.map(([, r]) => [r.topic, {
        confidence: r.confidence,
        coverage_pct: r.coverage_pct,
        keyword_counts: r.keyword_counts,
        findings: r.findings.map((f) => `${f.text} (${f.source}:${f.line})`),
      }])),
    };
  },
};

export default handlers;
