/**
 * Handlers of the lead qualification workflow: the lead
 * generator's scoring model and the revenue tracker's valuation. Deterministic
 * functions of the lead; dates count from the event time, never the clock.
 *
 * Score (0..100) = company size (≤35) + industry fit (≤15) + budget (≤20)
 * + engagement (≤25) + source (≤5). Win probability interpolates a
 * calibration table over the score; expected value = budget × probability.
 * Temperature: cold unless the lead qualifies (score ≥ qualify_score and
 * expected value ≥ min_expected_value, the route's condition); then hot when
 * its score is 80 or more (grade A), else warm.
 */
import { NonRetryableError } from 'ledgerflow';
import type { Handlers } from 'ledgerflow';

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Lower bound → points; the first bound the value reaches wins. */
const SIZE: [number, number][] = [[1000, 35], [200, 30], [50, 22], [10, 12], [1, 5]];
const BUDGET: [number, number][] = [[100_000, 20], [50_000, 15], [20_000, 10], [5_000, 5], [0, 0]];
const TARGET_INDUSTRIES = new Set(['logistics', 'manufacturing', 'retail', 'finance', 'healthcare']);
const ADJACENT_INDUSTRIES = new Set(['software', 'professional_services', 'education', 'energy']);
const SOURCE: Record<string, number> = { referral: 5, partner: 4, trade_show: 4, webinar: 3, website: 3, paid_ads: 2, outbound: 1 };
/** score → win probability, linear between the points. */
const CALIBRATION: [number, number][] = [[0, 0.02], [40, 0.08], [60, 0.2], [80, 0.4], [100, 0.6]];

const band = (value: number, table: [number, number][]): number => table.find(([min]) => value >= min)?.[1] ?? 0;

function num(input: Record<string, unknown>, name: string): number {
  const v = input[name];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new NonRetryableError(`${name} must be a non-negative number, got ${JSON.stringify(v)}`, 'BAD_LEAD');
  return v;
}

export function winProbability(score: number): number {
  for (let i = 1; i < CALIBRATION.length; i++) {
    const [s0, p0] = CALIBRATION[i - 1]!;
    const [s1, p1] = CALIBRATION[i]!;
    if (score <= s1) return round(p0 + ((Math.max(score, s0) - s0) / (s1 - s0)) * (p1 - p0), 4);
  }
  return CALIBRATION.at(-1)![1];
}

function addDays(iso: string, days: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new NonRetryableError(`received_at must be an ISO date-time, got ${JSON.stringify(iso)}`, 'BAD_LEAD');
  return new Date(t + days * 86_400_000).toISOString().slice(0, 10);
}

interface Engagement { website_visits: number; email_opens: number; content_downloads: number; demo_requested: boolean }
interface Score { score: number; grade: string; signals: string[] }
interface Value { win_probability: number; expected_value: number; lifetime_value: number; expected_lifetime_value: number; currency: string; temperature?: string }

/** hot / warm / cold, by the same thresholds as the route (defaults as the workflow's). */
export function temperature(score: number, expectedValue: number, qualifyScore = 60, minExpectedValue = 10_000): 'hot' | 'warm' | 'cold' {
  if (score < qualifyScore || expectedValue < minExpectedValue) return 'cold';
  return score >= 80 ? 'hot' : 'warm';
}

const handlers: Handlers = {
  score_lead(input, ctx) {
    const employees = num(input, 'employees');
    const budget = num(input, 'budget');
    const industry = String(input.industry ?? '').toLowerCase();
    const e = (input.engagement ?? {}) as Engagement;
    const breakdown = {
      company_size: band(employees, SIZE),
      industry_fit: TARGET_INDUSTRIES.has(industry) ? 15 : ADJACENT_INDUSTRIES.has(industry) ? 8 : 3,
      budget: band(budget, BUDGET),
      engagement: round(
        Math.min(e.website_visits ?? 0, 20) * 0.4 + Math.min(e.email_opens ?? 0, 10) * 0.4 +
        Math.min(e.content_downloads ?? 0, 5) + (e.demo_requested ? 8 : 0), 1),
      source: SOURCE[String(input.source)] ?? 0,
    };
    const score = Math.round(Object.values(breakdown).reduce((a, b) => a + b, 0));
    const grade = score >= 80 ? 'A' : score >= 60 ? 'B' : score >= 40 ? 'C' : 'D';
    const signals = [
      ...(e.demo_requested ? ['requested a demo'] : []),
      ...(TARGET_INDUSTRIES.has(industry) ? [`target industry (${industry})`] : []),
      ...(budget >= 50_000 ? ['budget of 50k or more'] : []),
      ...((e.website_visits ?? 0) + (e.email_opens ?? 0) + (e.content_downloads ?? 0) === 0 ? ['no engagement yet'] : []),
    ];
    ctx.log(`score ${score} (${grade}): ${signals.join(', ') || 'no strong signal'}`);
    return { score, grade, breakdown, signals };
  },

  compute_value(input, ctx) {
    const score = num(input, 'score');
    const budget = num(input, 'budget');
    const win_probability = winProbability(score);
    // Larger customers stay longer: three years from 200 employees, else two.
    const years = num(input, 'employees') >= 200 ? 3 : 2;
    const value = {
      currency: String(input.currency ?? 'EUR'),
      win_probability,
      expected_value: Math.round(budget * win_probability),
      lifetime_value: budget * years,
      expected_lifetime_value: Math.round(budget * years * win_probability),
    };
    const threshold = (name: string, fallback: number) => (typeof input[name] === 'number' ? (input[name] as number) : fallback);
    const temp = temperature(score, value.expected_value, threshold('qualify_score', 60), threshold('min_expected_value', 10_000));
    ctx.log(`win probability ${win_probability}, expected value ${value.expected_value} ${value.currency}: ${temp}`);
    return { ...value, temperature: temp };
  },

  register_opportunity(input, ctx) {
    const score = input.score as Score;
    const value = input.value as Value;
    const employees = num(input, 'employees');
    const opportunity = {
      opportunity_id: `opp-${String(input.lead_id)}`,
      lead_id: input.lead_id,
      company: input.company,
      stage: 'qualified',
      temperature: value.temperature ?? (score.grade === 'A' ? 'hot' : 'warm'),
      segment: employees >= 1000 ? 'enterprise' : employees >= 200 ? 'mid_market' : 'smb',
      grade: score.grade,
      score: score.score,
      signals: score.signals,
      // A grade first call within a day, the others within two.
      follow_up_by: addDays(String(input.received_at), score.grade === 'A' ? 1 : 2),
      pipeline_value: value.expected_value,
      currency: value.currency,
      source_event: input.event_id || null,
    };
    ctx.log(`${opportunity.opportunity_id} (${opportunity.segment}) in the pipeline at ${value.expected_value} ${value.currency}`);
    return opportunity;
  },

  nurture_lead(input, ctx) {
    const score = input.score as Score;
    const value = input.value as Value;
    const budget = num(input, 'budget');
    const reasons: string[] = [];
    let track: string;
    if (score.signals.includes('no engagement yet')) {
      track = 'awareness';
      reasons.push('has not engaged with any content');
    } else if (budget < 20_000) {
      track = 'self_serve';
      reasons.push(`budget ${budget} is below the sales-assisted minimum`);
    } else {
      track = 'education';
      reasons.push(`score ${score.score} or expected value ${value.expected_value} below the sales thresholds`);
    }
    const cadence_days = { awareness: 30, self_serve: 21, education: 14 }[track]!;
    const plan = {
      lead_id: input.lead_id,
      company: input.company,
      track,
      cadence_days,
      next_touch_on: addDays(String(input.received_at), cadence_days),
      score: score.score,
      grade: score.grade,
      temperature: 'cold',
      expected_value: value.expected_value,
      reasons,
      source_event: input.event_id || null,
    };
    ctx.log(`${track} track, next touch on ${plan.next_touch_on}`);
    return plan;
  },
};

export default handlers;
