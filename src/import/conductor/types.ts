/**
 * The task types that are one ledgerflow task each (WAIT, HUMAN, SUB_WORKFLOW, TERMINATE, SET_VARIABLE, EVENT, HTTP,
 * JSON_JQ_TRANSFORM), and why the others have no equivalent.
 */
import { TASK_TYPES } from '../../definition/index.js';
import { attemptSettings, waitDuration } from './common.js';
import type { Ctx, LfTask } from './context.js';
import type { ConductorTask } from './schema.js';
import { substituteJq } from './substitute.js';
import { mapRunTime } from './run-time-tasks.js';
import type { Templates } from './templates.js';

/**
 * Whether this build's definition language has the HTTP task type. Conductor HTTP tasks are always written as
 * `type: HTTP`; while the language lacks the type, a workflow holding one is refused naming it.
 */
export function httpTaskSupported(): boolean {
  return (TASK_TYPES as readonly string[]).includes('HTTP');
}

/** Conductor task types with no ledgerflow equivalent, and why. */
const NO_EQUIVALENT: Record<string, string> = {
  KAFKA_PUBLISH:
    'ledgerflow does not publish to Kafka: EMIT publishes ledgerflow events (on NATS lf.triggers.<event>), or a SIMPLE task may publish',
  TERMINATE_WORKFLOW: 'it ends another workflow',
  BUSINESS_RULE: 'an Orkes rules table: no ledgerflow equivalent',
  JDBC: 'ledgerflow does not query databases itself: a SIMPLE task may',
};

/**
 * Orkes' integration and AI tasks (an LLM call, an e-mail by SendGrid, an agent, an MCP tool): Orkes' server does their
 * work, ledgerflow has none of its own, and a SIMPLE task whose handler makes the same call is their translation, as a
 * Conductor SIMPLE task is one whose worker does the work. Imported so unless --no-integrations.
 */
export function isIntegration(type: string): boolean {
  return (
    /^(LLM_|GENERATE_|AI_|.*AGENT|.*MCP)/.test(type) ||
    type === 'SENDGRID' ||
    type === 'OPS_GENIE' ||
    type in ORKES_SYSTEM
  );
}

/** Orkes system tasks that read Orkes' own server (no engine equivalent): imported as integrations are, with what they did. */
const ORKES_SYSTEM: Record<string, string> = {
  QUERY_PROCESSOR: "an Orkes system task that queries Orkes' index of workflow runs (or its metrics)",
};

/** The note of an integration imported as a SIMPLE task. */
export function integrationNote(type: string, handler: string): string {
  const what = ORKES_SYSTEM[type] ?? 'an Orkes integration its server runs';
  const how =
    type in ORKES_SYSTEM
      ? " (ledgerflow's own runs are listed by `ledgerflow runs --json` or the library's store)"
      : '';
  return `${what}: imported as a SIMPLE task, and a handler named ${handler} must make that call${how} (--no-integrations refuses it instead)`;
}

function whyNot(type: string): string {
  const known = NO_EQUIVALENT[type];
  if (known !== undefined) return known;
  if (/^(LLM_|GENERATE_|AI_|.*AGENT|.*MCP)/.test(type))
    return `${type} is an Orkes AI task with no ledgerflow equivalent: a SIMPLE task whose handler calls the model does the same`;
  return `${type} has no ledgerflow equivalent (a SIMPLE task whose handler does the same is the way to write it)`;
}

/** Conductor's WAIT `until` ("2026-01-31 09:00 UTC") as ISO 8601, or null. */
function isoUntil(text: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?))?\s*(UTC|GMT|Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (!m) return null;
  const zone = m[3] === undefined || m[3] === 'UTC' || m[3] === 'GMT' ? 'Z' : m[3];
  return m[2] === undefined ? m[1]! : `${m[1]}T${m[2]}${zone}`;
}

/** The ledgerflow fields of a task of one of these types (with `type`), or null after a refusal. */
export function mapOther(t: ConductorTask, ctx: Ctx, tpl: Templates): LfTask | null {
  const ip = t.inputParameters ?? {};
  const input = Object.keys(ip).length === 0 ? {} : { input: tpl.value(ip, t) };
  switch (t.type) {
    case 'HTTP':
      return http(t, ctx, tpl);
    case 'JSON_JQ_TRANSFORM':
      return jqTransform(t, ctx, tpl);
    case 'WAIT': {
      if (typeof ip.duration === 'string') {
        const d = waitDuration(ip.duration);
        if (d !== null) return { type: 'WAIT', duration: d };
        if (ip.duration.includes('${'))
          ctx.refuse(
            t,
            `its duration ${ip.duration} is chosen at run time; a ledgerflow WAIT's duration is fixed (use until with an ISO time)`,
          );
        else ctx.refuse(t, `its duration "${ip.duration}" is not "<n> seconds|minutes|hours|days"`);
        return null;
      }
      if (typeof ip.until === 'string') {
        if (ip.until.includes('${')) return { type: 'WAIT', until: tpl.text(ip.until, t) };
        const iso = isoUntil(ip.until);
        if (iso !== null) return { type: 'WAIT', until: iso };
        ctx.refuse(t, `its until "${ip.until}" is not a date and time in UTC or with an offset`);
        return null;
      }
      ctx.note(
        t,
        `waits for its completion from outside: in ledgerflow, \`ledgerflow signal <runId> ${ctx.id(t)} --data '{...}'\` (the data is its output)`,
      );
      return { type: 'WAIT', event: ctx.id(t) };
    }
    case 'WAIT_FOR_WEBHOOK': {
      const matches = ip.matches !== null && typeof ip.matches === 'object' ? Object.keys(ip.matches as object) : [];
      ctx.note(
        t,
        `a WAIT on the signal ${ctx.id(t)}: Orkes matched an incoming webhook to the run${matches.length > 0 ? ` by ${matches.join(', ')}` : ''}; in ledgerflow whatever receives the webhook delivers its body with \`ledgerflow signal <runId> ${ctx.id(t)} --data '<body>'\` (the data is the task's output, as the webhook's body was)`,
      );
      return { type: 'WAIT', event: ctx.id(t) };
    }
    case 'HUMAN':
    case 'USER_TASK':
      ctx.note(
        t,
        `a person completes it with \`ledgerflow approve <runId> ${ctx.id(t)}\` (or reject); Conductor's form and assignments are not imported`,
      );
      return { type: 'HUMAN', ...input };
    case 'SUB_WORKFLOW': {
      const p = t.subWorkflowParam;
      const inline = p?.workflowDefinition;
      const name =
        inline !== null && typeof inline === 'object' && typeof (inline as { name?: unknown }).name === 'string'
          ? (inline as { name: string }).name
          : p?.name;
      if (name === undefined) {
        ctx.refuse(t, 'subWorkflowParam names no workflow');
        return null;
      }
      const chosen = name.includes('${') && inline === undefined;
      if (chosen)
        ctx.note(
          t,
          `the sub-workflow ${name} is chosen at run time: workflow: ${name} is resolved when the attempt starts, and the child's run.started records the workflow and version it ran (a restarted attempt finds that child); the name must be a ledgerflow workflow id`,
        );
      if (inline !== undefined && inline !== null && typeof inline === 'object') {
        ctx.extra.push(inline);
        ctx.note(t, `its inline workflowDefinition is imported as workflow ${ctx.subWorkflowId(name)}`);
      }
      const version =
        typeof p?.version === 'number' && p.version >= 1 && inline === undefined ? { version: p.version } : {};
      return {
        type: 'SUB_WORKFLOW',
        workflow: chosen ? tpl.text(name, t) : ctx.subWorkflowId(name),
        ...version,
        ...input,
        ...attemptSettings(t, ctx),
      };
    }
    case 'TERMINATE': {
      const status = ip.terminationStatus;
      if (status !== undefined && status !== 'COMPLETED' && status !== 'FAILED' && status !== 'TERMINATED') {
        ctx.refuse(t, `terminationStatus ${String(status)} is not COMPLETED, FAILED or TERMINATED`);
        return null;
      }
      if (status === 'TERMINATED')
        ctx.note(t, 'terminationStatus TERMINATED becomes FAILED (ledgerflow ends a run COMPLETED or FAILED)');
      if (ip.workflowOutput !== undefined)
        ctx.note(t, "workflowOutput is not imported: the run's output is the workflow's output mapping");
      const reason = typeof ip.terminationReason === 'string' ? { reason: tpl.text(ip.terminationReason, t) } : {};
      return {
        type: 'TERMINATE',
        status: status === 'COMPLETED' ? 'COMPLETED' : status === undefined ? 'COMPLETED' : 'FAILED',
        ...reason,
      };
    }
    case 'SET_VARIABLE':
      return { type: 'SET', values: tpl.value(ip, t) };
    case 'EVENT': {
      const sink = typeof t.sink === 'string' ? t.sink : typeof ip.sink === 'string' ? ip.sink : 'conductor';
      const named = sink.includes(':') ? sink.slice(sink.lastIndexOf(':') + 1) : `${ctx.id(t)}`;
      const event = named.replace(/[^A-Za-z0-9_-]/g, '_');
      if (!sink.startsWith('conductor'))
        ctx.note(
          t,
          `sink ${sink}: ledgerflow emits the event ${event} to its own triggers (on NATS lf.triggers.${event}), not to ${sink.split(':')[0]}`,
        );
      const { sink: _sink, ...data } = ip;
      return { type: 'EMIT', event, data: tpl.value(data, t) };
    }
    default: {
      // DYNAMIC, START_WORKFLOW, YIELD, PULL_WORKFLOW_MESSAGES: chosen or delivered at run time (run-time-tasks.ts).
      const runTime = mapRunTime(t, ctx, tpl);
      if (runTime !== undefined) return runTime;
      ctx.refuse(t, whyNot(t.type));
      return null;
    }
  }
}

/** Conductor's HTTP task (http_request, or the fields directly in inputParameters) as `type: HTTP`. */
function http(t: ConductorTask, ctx: Ctx, tpl: Templates): LfTask {
  if (!httpTaskSupported())
    ctx.refuse(
      t,
      "it needs ledgerflow's HTTP task type, which this version does not have (a SIMPLE task whose handler makes the request is the way until then)",
    );
  const ip = t.inputParameters ?? {};
  const req = (ip.http_request !== null && typeof ip.http_request === 'object' ? ip.http_request : ip) as Record<
    string,
    unknown
  >;
  const headers: Record<string, unknown> = {
    ...(req.headers !== null && typeof req.headers === 'object' ? (req.headers as Record<string, unknown>) : {}),
  };
  if (typeof req.accept === 'string' && headers.Accept === undefined) headers.Accept = req.accept;
  if (typeof req.contentType === 'string' && headers['Content-Type'] === undefined)
    headers['Content-Type'] = req.contentType;
  const dropped = Object.keys(req).filter(
    (k) => !['uri', 'method', 'headers', 'body', 'accept', 'contentType'].includes(k),
  );
  if (dropped.length > 0) ctx.note(t, `HTTP settings not imported: ${dropped.join(', ')}`);
  const lf: LfTask = {
    type: 'HTTP',
    method: typeof req.method === 'string' ? req.method.toUpperCase() : 'GET',
    url: tpl.value(req.uri, t),
  };
  if (Object.keys(headers).length > 0) lf.headers = tpl.value(headers, t);
  if (req.body !== undefined) lf.body = tpl.value(req.body, t);
  return { ...lf, ...attemptSettings(t, ctx) };
}

/**
 * Conductor's JSON_JQ_TRANSFORM as `type: TRANSFORM`: its queryExpression is the `jq:`, its other inputParameters the
 * input jq reads. The output is Conductor's `{ result, resultList }`, so references to it read the same.
 */
function jqTransform(t: ConductorTask, ctx: Ctx, tpl: Templates): LfTask | null {
  const { queryExpression, ...rest } = t.inputParameters ?? {};
  if (typeof queryExpression !== 'string' || queryExpression.trim() === '') {
    ctx.refuse(t, 'its inputParameters.queryExpression is no jq program');
    return null;
  }
  if (/^\s*\$\{[^{}]*\}\s*$/.test(queryExpression)) {
    ctx.refuse(
      t,
      `its queryExpression is the reference ${queryExpression.trim()}: the jq program itself is chosen at run time, and a TRANSFORM's jq is fixed`,
    );
    return null;
  }
  // Conductor pastes each ${...} into the program before jq runs: each becomes a jq variable bound from an input (substitute.ts).
  const { text: jq, refs } = substituteJq(queryExpression);
  for (const r of refs) rest[r.name] = r.ref;
  if (refs.length > 0)
    ctx.note(
      t,
      `its queryExpression's ${refs.length === 1 ? 'reference' : `${refs.length} references`} (\${…}, which Conductor pastes into the program) became input${refs.length === 1 ? '' : 's'} _lf_ref1…, read in jq as $_lf_ref1…`,
    );
  return {
    type: 'TRANSFORM',
    ...(Object.keys(rest).length > 0 ? { input: tpl.value(rest, t) } : {}),
    jq,
    ...attemptSettings(t, ctx),
  };
}
