/**
 * POST /api/schedules/:workflow/:action (docs/operations.md#schedules): the body of a pause, resume, trigger or
 * backfill, checked, as the schedule action `ledgerflow schedules <action>` takes.
 */
import type { ScheduleAction } from '../triggers/schedule-control.js';
import { ApiError } from './errors.js';
import { parseBody, ScheduleActionBody } from './schemas.js';

export function scheduleActionOf(workflowId: string, action: string, raw: unknown): ScheduleAction {
  const body = parseBody(ScheduleActionBody, raw);
  const trigger = body.trigger !== undefined ? { trigger: body.trigger } : {};
  if (action === 'backfill') {
    if (!body.from || !body.to)
      throw new ApiError(
        400,
        'LF_INPUT_INVALID',
        `${body.from ? 'to' : 'from'}: a backfill needs from and to (ISO times)`,
        { field: body.from ? 'to' : 'from' },
      );
    return { action, workflowId, ...trigger, from: Date.parse(body.from), to: Date.parse(body.to) };
  }
  if (action === 'pause') return { action, workflowId, ...trigger, ...(body.reason ? { reason: body.reason } : {}) };
  return { action: action as 'resume' | 'trigger', workflowId, ...trigger };
}
