/**
 * The two Conductor tasks that become a ledgerflow loop: a DO_WHILE (its body in loop_over, its loopCondition a
 * condition or a script run as the body's last task) and an HTTP_POLL (a DO_WHILE around the request, a check and a
 * pause). flow.ts calls them with itself as the FlowSteps they build with.
 */
import type { Ctx, LfTask } from './context.js';
import type { ConductorTask } from './schema.js';
import { dollarNames, scriptFields, scriptTask } from './javascript.js';
import type { Templates } from './templates.js';
import { mapOther } from './types.js';

/** What the loops use of the Flow that converts the lists around them (flow.ts). */
interface FlowSteps {
  readonly ctx: Ctx;
  readonly tpl: Templates;
  seq(list: readonly ConductorTask[], entry: string[]): string[];
  emit(t: ConductorTask, type: string, deps: string[], fields: LfTask): LfTask;
  add(id: string, deps: string[], fields: LfTask): void;
  script(t: ConductorTask, src: string, extra?: (path: string[]) => string | null): string;
}

export function loop(f: FlowSteps, t: ConductorTask, deps: string[]): string[] {
  const id = f.ctx.id(t);
  if (f.ctx.loop !== null) {
    f.ctx.refuse(t, `a DO_WHILE inside the DO_WHILE ${f.ctx.loop}: ledgerflow does not nest loops (LF_LOOP_BODY)`);
    return [id];
  }
  const body = t.loopOver ?? [];
  if (body.length === 0) f.ctx.refuse(t, 'a DO_WHILE without loopOver tasks');
  const items = overItemsCondition(f, t);
  const lf = f.emit(t, 'DO_WHILE', deps, {});
  const before = f.ctx.tasks.length;
  f.ctx.loop = id;
  const bodyExits = f.seq(body, []);
  f.ctx.loop = null;
  lf.loop_over = f.ctx.tasks.slice(before).map((x) => x.id as string);
  // The condition reads the loop's and its body's outputs by reference name ($.loop['iteration'], $.task['field']).
  const own = new Set([t.taskReferenceName, ...collectRefs(body)]);
  const extra = (path: string[]): string | null => {
    const [ref, ...rest] = path;
    if (ref === undefined || !own.has(ref) || t.inputParameters?.[ref] !== undefined) return null;
    return `\${${[f.ctx.ids.get(ref)!, 'output', ...rest].join('.')}}`;
  };
  const overItems = t.inputParameters?.items !== undefined && (t.loopCondition ?? '').trim() === '';
  const condition =
    t.loopCondition === undefined || t.loopCondition.trim() === ''
      ? '\0no loopCondition'
      : f.script(t, t.loopCondition, extra);
  if (condition.startsWith('\0') && !overItems && t.loopCondition !== undefined && t.loopCondition.trim() !== '') {
    // Beyond a plain comparison: the last task of each iteration runs the script; the loop goes on while its result is true.
    const params: Record<string, unknown> = { ...(t.inputParameters ?? {}) };
    for (const name of dollarNames(t.loopCondition)) {
      if (!own.has(name) || params[name] !== undefined) continue;
      params[name] =
        name === t.taskReferenceName ? { iteration: `\${${name}.output.iteration}` } : `\${${name}.output}`;
    }
    const js = scriptTask(t, t.loopCondition, f.ctx, f.tpl, params);
    if (js !== null) {
      const condId = f.ctx.freshId(`${id}_condition`);
      f.add(condId, bodyExits, scriptFields(js));
      (lf.loop_over as string[]).push(condId);
      lf.loop_condition = `\${${condId}.output.result} == true`;
      f.ctx.note(
        t,
        `its loopCondition (beyond a plain comparison: it has ${condition.slice(1)}) runs in the TRANSFORM ${condId}, the body's last task (js:, in a sandbox); the loop goes on while its result is true; ledgerflow stops a loop after max_iterations (default 100)`,
      );
    }
  } else if (condition.startsWith('\0')) {
    if (!overItems) f.ctx.refuse(t, `its loopCondition is not a plain comparison: it has ${condition.slice(1)}`);
    else if (items !== null) {
      lf.loop_condition = items;
      f.ctx.note(
        t,
        `a DO_WHILE over items without a loopCondition: one iteration per item (loop_condition ${items}); ledgerflow runs a loop's body at least once`,
      );
    }
  } else {
    lf.loop_condition = condition;
    f.ctx.note(t, `loopCondition became ${condition}; ledgerflow stops a loop after max_iterations (default 100)`);
  }
  return [id];
}

/**
 * HTTP_POLL as a DO_WHILE (its reference name) around the HTTP request, a TRANSFORM running the terminationCondition
 * over Conductor's `$.output.response`, and a WAIT of pollingInterval before the next request (skipped once the
 * condition holds). References to the poll's output read the request's.
 */
export function httpPoll(f: FlowSteps, t: ConductorTask, deps: string[]): string[] {
  const id = f.ctx.id(t);
  const ip = t.inputParameters ?? {};
  const req = (ip.http_request !== null && typeof ip.http_request === 'object' ? ip.http_request : ip) as Record<
    string,
    unknown
  >;
  const { terminationCondition: cond, pollingInterval, pollingStrategy, maxPollCount, ...request } = req;
  if (typeof cond !== 'string' || cond.trim() === '') {
    f.ctx.refuse(t, 'its http_request has no terminationCondition to poll until');
    return [id];
  }
  const lf = f.emit(t, 'DO_WHILE', deps, {});
  const reqId = f.ctx.pollRequests.get(t.taskReferenceName)!;
  const http = mapOther({ ...t, type: 'HTTP', inputParameters: { http_request: request } }, f.ctx, f.tpl);
  if (http === null) return [id];
  f.add(reqId, [], http);
  const ref = t.taskReferenceName;
  const response = {
    body: `\${${ref}.output.response.body}`,
    statusCode: `\${${ref}.output.response.statusCode}`,
    headers: `\${${ref}.output.response.headers}`,
  };
  const js = scriptTask(t, cond, f.ctx, f.tpl, { output: { response } });
  if (js === null) return [id];
  const checkId = f.ctx.freshId(`${id}_done`);
  f.add(checkId, [reqId], scriptFields(js));
  const body = [reqId, checkId];
  let pause = '';
  const interval =
    typeof pollingInterval === 'number'
      ? pollingInterval
      : typeof pollingInterval === 'string' && /^\d+$/.test(pollingInterval)
        ? Number(pollingInterval)
        : 0;
  if (interval > 0) {
    const againId = f.ctx.freshId(`${id}_again`);
    const pauseId = f.ctx.freshId(`${id}_pause`);
    f.add(againId, [checkId], {
      type: 'DECISION',
      decision_cases: { poll: { condition: `\${${checkId}.output.result} != true`, next: pauseId } },
    });
    f.add(pauseId, [], { type: 'WAIT', duration: `${interval}s` });
    body.push(againId, pauseId);
    pause = `, ${pauseId} waits ${interval}s before the next request`;
  }
  lf.loop_over = body;
  lf.loop_condition = `\${${checkId}.output.result} != true`;
  if (typeof maxPollCount === 'number' && maxPollCount >= 1) lf.max_iterations = Math.floor(maxPollCount);
  if (pollingStrategy !== undefined && pollingStrategy !== 'FIXED')
    f.ctx.note(
      t,
      `pollingStrategy ${String(pollingStrategy)}: the import waits a fixed pollingInterval between requests`,
    );
  f.ctx.note(
    t,
    `HTTP_POLL became a DO_WHILE: ${reqId} (HTTP) sends the request, ${checkId} runs the terminationCondition (js:, in a sandbox)${pause}; ${maxPollCount === undefined ? 'ledgerflow stops after max_iterations (default 100)' : `at most ${String(maxPollCount)} requests`}; \${${ref}.output.response…} reads ${reqId}'s output`,
  );
  return [id];
}

function collectRefs(list: readonly ConductorTask[]): string[] {
  return list.flatMap((t) => [
    t.taskReferenceName,
    ...collectRefs(t.loopOver ?? []),
    ...(t.forkTasks ?? []).flatMap(collectRefs),
    ...Object.values(t.decisionCases ?? {}).flatMap(collectRefs),
    ...collectRefs(t.defaultCase ?? []),
  ]);
}

/**
 * A DO_WHILE over `items` with no loopCondition runs its body once per item: the condition `iteration < len(items)`
 * (a literal list: its length). Null after a refusal: the body reads the item (`${loop.output.item}`), which a ledgerflow
 * loop does not give (a MAP does).
 */
function overItemsCondition(f: FlowSteps, t: ConductorTask): string | null {
  const items = t.inputParameters?.items;
  if (items === undefined || (t.loopCondition ?? '').trim() !== '') return null;
  const body = JSON.stringify(t.loopOver ?? []);
  if (
    body.includes(`\${${t.taskReferenceName}.output.item`) ||
    body.includes(`\${${t.taskReferenceName}.output.index`)
  ) {
    f.ctx.refuse(t, 'a DO_WHILE over items whose body reads the item: write it as a MAP (its ${item})');
    return null;
  }
  const iteration = `\${${f.ctx.id(t)}.output.iteration}`;
  if (Array.isArray(items)) return `${iteration} < ${items.length}`;
  if (typeof items === 'string' && /^\s*\$\{[^{}]*\}\s*$/.test(items))
    return `${iteration} < len(${f.tpl.text(items.trim(), t)})`;
  f.ctx.refuse(t, 'a DO_WHILE over items that are neither a list nor one reference');
  return null;
}
