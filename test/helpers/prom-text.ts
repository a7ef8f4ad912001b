/**
 * A strict reader of the Prometheus text exposition format (0.0.4), as
 * promtool's `check metrics` reads it: every sample belongs to a family
 * whose # TYPE came first (histogram and summary samples by their suffixes),
 * names and label names are valid, label values are quoted and escaped right,
 * values are numbers (as Go's ParseFloat reads them), no series appears twice, no family is declared twice.
 * Throws on the first line that breaks a rule; returns the samples.
 */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
  counter: [''],
  gauge: [''],
  untyped: [''],
};

export function parsePromText(text: string): PromSample[] {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const seen = new Set<string>();
  const samples: PromSample[] = [];
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, i) => {
      const where = `line ${i + 1} (${JSON.stringify(line.slice(0, 120))})`;
      if (line === '') return;
      if (line.startsWith('#')) {
        const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
        if (!m) return; // a plain comment
        const [, kind, name, rest] = m as unknown as [string, string, string, string];
        if (!NAME.test(name)) throw new Error(`${where}: invalid metric name`);
        if (kind === 'TYPE') {
          if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
          if (types.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
          types.set(name, rest);
        } else {
          if (helps.has(name)) throw new Error(`${where}: second HELP for ${name}`);
          helps.add(name);
        }
        return;
      }
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
      if (!m) throw new Error(`${where}: not a sample line`);
      const [, name, labelText, valueText] = m as unknown as [string, string, string | undefined, string];
      const family = [...types.keys()].find((f) => (SUFFIXES[types.get(f)!] ?? ['']).some((s) => name === f + s));
      if (family === undefined) throw new Error(`${where}: sample of ${name} before (or without) its # TYPE`);
      const labels = parseLabels(labelText ?? '', where);
      // As Prometheus reads a value (Go's ParseFloat): NaN and Inf in any case (prom-client writes `Nan`).
      if (!/^(?:[+-]?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?|inf(?:inity)?)|nan)$/i.test(valueText))
        throw new Error(`${where}: value ${valueText} is not a number`);
      const key = `${name}{${Object.entries(labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}}`;
      if (seen.has(key)) throw new Error(`${where}: series ${key} appears twice`);
      seen.add(key);
      if (types.get(family) === 'histogram' && name.endsWith('_bucket') && labels.le === undefined)
        throw new Error(`${where}: a histogram bucket without le`);
      const special = valueText.toLowerCase().replace(/^([+-]?)inf(inity)?$/, '$1Infinity');
      samples.push({ name, labels, value: /nan/i.test(special) ? NaN : Number(special) });
    });
  return samples;
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const m = /^([^=,"]+)="((?:[^"\\\n]|\\[\\"n])*)"(,?)/.exec(rest);
    if (!m) throw new Error(`${where}: malformed labels at ${JSON.stringify(rest.slice(0, 60))}`);
    const [whole, name, raw, comma] = m as unknown as [string, string, string, string];
    if (!LABEL.test(name) || name.startsWith('__')) throw new Error(`${where}: invalid label name ${name}`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    labels[name] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(whole.length);
    if (rest.length > 0 && comma !== ',') throw new Error(`${where}: labels not separated by commas`);
  }
  return labels;
}

/** The value of the one sample of `name` with exactly these labels (undefined: none). */
export function sampleValue(
  samples: readonly PromSample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const want = Object.entries(labels);
  return samples.find(
    (s) => s.name === name && Object.keys(s.labels).length === want.length && want.every(([k, v]) => s.labels[k] === v),
  )?.value;
}
