/**
 * Handlers of the revenue milestone workflow: the finance analyst's
 * metrics and the strategic planner's plan update. Pure arithmetic on the
 * event's figures, so a re-run of the same attempt gives the same answer and
 * replay is never in doubt. The plan model, in one place:
 * - half of this month's variance against target is taken as durable, so the
 *   monthly target moves by variance_pct / 2, capped at ±25%;
 * - next quarter's target is three months at the new monthly target;
 * - above target, a share of the profit on the surplus revenue is reinvested
 *   (half when the margin is at least 25%, else 30%); below it, costs are cut
 *   by a fifth of the shortfall; the shift is split marketing 45%, sales 35%,
 *   operations 20%.
 */
import { NonRetryableError } from 'ledgerflow';
import type { Handlers } from 'ledgerflow';

const round = (n: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};
const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, n));

function amount(input: Record<string, unknown>, name: string, opts: { positive?: boolean } = {}): number {
  const v = input[name];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (opts.positive && v === 0)) {
    // Bad figures do not get better with a retry.
    throw new NonRetryableError(`${name} must be a ${opts.positive ? 'positive' : 'non-negative'} number, got ${JSON.stringify(v)}`, 'BAD_FIGURE');
  }
  return v;
}

/** The quarter after the one `month` (YYYY-MM) falls in, e.g. 2026-10 → 2027-Q1, with its months. */
export function nextQuarter(month: string): { quarter: string; months: string[] } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) throw new NonRetryableError(`month must be YYYY-MM, got ${JSON.stringify(month)}`, 'BAD_MONTH');
  const year = Number(m[1]);
  const q = Math.floor((Number(m[2]) - 1) / 3) + 1;
  const [y, nq] = q === 4 ? [year + 1, 1] : [year, q + 1];
  const first = (nq - 1) * 3 + 1;
  return { quarter: `${y}-Q${nq}`, months: [0, 1, 2].map((i) => `${y}-${String(first + i).padStart(2, '0')}`) };
}

const ALLOCATION = [['marketing', 0.45], ['sales', 0.35], ['operations', 0.2]] as const;

function allocate(total: number): Record<string, number> {
  const out: Record<string, number> = {};
  let given = 0;
  ALLOCATION.forEach(([name, share], i) => {
    // The last department takes the rounding remainder, so the parts always sum to the total.
    out[name] = i === ALLOCATION.length - 1 ? total - given : Math.round(total * share);
    given += out[name]!;
  });
  return out;
}

interface Metrics { variance: number; variance_pct: number; margin_pct: number; attainment_pct: number }

const handlers: Handlers = {
  compute_metrics(input, ctx) {
    const revenue = amount(input, 'revenue');
    const target = amount(input, 'target', { positive: true });
    const costs = amount(input, 'operating_costs');
    const previous = typeof input.previous_revenue === 'number' && input.previous_revenue > 0 ? input.previous_revenue : null;
    const variance = revenue - target;
    const variance_pct = round((variance / target) * 100);
    const margin = revenue - costs;
    const margin_pct = revenue > 0 ? round((margin / revenue) * 100) : 0;
    const metrics = {
      month: input.month,
      attainment_pct: round((revenue / target) * 100),
      variance,
      variance_pct,
      margin,
      margin_pct,
      run_rate: revenue * 12,
      mom_growth_pct: previous === null ? null : round(((revenue - previous) / previous) * 100),
      milestone: variance_pct >= 10 ? 'exceeded' : variance >= 0 ? 'met' : 'missed',
    };
    ctx.log(`${String(input.month)}: ${metrics.attainment_pct}% of target, margin ${margin_pct}%, run-rate ${metrics.run_rate}`);
    return metrics;
  },

  update_plan(input, ctx) {
    const m = input.metrics as Metrics;
    const target = amount(input, 'target', { positive: true });
    const { quarter, months } = nextQuarter(String(input.month));
    const plan_change_pct = round(clamp(m.variance_pct / 2, -25, 25));
    const monthly_target = Math.round(target * (1 + plan_change_pct / 100));
    const budget_shift = m.variance >= 0
      ? Math.round(m.variance * (m.margin_pct / 100) * (m.margin_pct >= 25 ? 0.5 : 0.3))
      : Math.round(m.variance * 0.2);
    const direction = plan_change_pct >= 0 ? 'raise' : 'lower';
    const plan = {
      next_quarter: quarter,
      months,
      monthly_target,
      next_quarter_target: monthly_target * 3,
      plan_change_pct,
      budget_shift,
      allocations: allocate(budget_shift),
      rationale: `${m.attainment_pct}% of target with a ${m.margin_pct}% margin: ${direction} the monthly target by ${Math.abs(plan_change_pct)}% ` +
        `and ${budget_shift >= 0 ? `reinvest ${budget_shift}` : `cut ${-budget_shift}`} in ${quarter}`,
    };
    ctx.log(plan.rationale);
    return plan;
  },

  auto_approve_plan(input) {
    return {
      approved_by: 'policy',
      reason: `plan change of ${String(input.plan_change_pct)}% is within ±${String(input.threshold_pct)}%, approved without review`,
    };
  },

  apply_plan(input, ctx) {
    const plan = input.plan as Record<string, unknown>;
    const approval = input.approval as { by?: string; comment?: string | null } | undefined;
    const auto = input.auto_approval as { approved_by?: string; reason?: string } | undefined;
    const approved_by = approval?.by ?? auto?.approved_by;
    if (!approved_by) throw new NonRetryableError('the plan change has neither an approval nor an automatic approval', 'NOT_APPROVED');
    const applied = {
      plan_id: `plan-${String(input.region)}-${String(plan.next_quarter)}`,
      region: input.region,
      currency: input.currency,
      based_on_month: input.month,
      next_quarter: plan.next_quarter,
      months: plan.months,
      monthly_target: plan.monthly_target,
      next_quarter_target: plan.next_quarter_target,
      plan_change_pct: plan.plan_change_pct,
      budget_shift: plan.budget_shift,
      allocations: plan.allocations,
      rationale: plan.rationale,
      metrics: input.metrics,
      approved_by,
      approval_note: approval ? (approval.comment ?? null) : (auto?.reason ?? null),
      source_event: input.event_id || null,
      run_id: ctx.runId,
    };
    ctx.log(`${applied.plan_id}: monthly target ${String(plan.monthly_target)} ${String(input.currency)}, approved by ${approved_by}`);
    return applied;
  },
};

export default handlers;
