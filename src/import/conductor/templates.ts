/**
 * Conductor's `${...}` references in ledgerflow's terms. Most are kept as they are (`${workflow.input.x}`,
 * `${ref.output.y}`, `${workflow.variables.v}`); a few are renamed (`${workflow.workflowId}` → `${workflow.runId}`); a
 * task's input (`${ref.input.x}`) is replaced by what that input was given. One with no equivalent is refused by name.
 */
import type { Ctx } from './context.js';
import type { ConductorTask } from './schema.js';

const REF = /\$\{([^{}]*)\}/g;

/** What body() gives for a reference to a task the workflow does not have: null at run time, as in Conductor. */
export const MISSING_REF = '\0missing';
const MISSING = MISSING_REF;

/** `a['b'].c[0]` → `a.b.c[0]`: ledgerflow's paths are dot names and [n] indexes. */
function dotted(path: string): string {
  return path.replace(/\[\s*(['"])([A-Za-z0-9_$-]+)\1\s*\]/g, '.$2').replace(/^\./, '');
}

const WORKFLOW_FIELDS: Record<string, string> = {
  workflowId: 'runId',
  workflowType: 'id',
  name: 'id',
  version: 'version',
};

export class Templates {
  constructor(private readonly ctx: Ctx) {}

  /** The body of one `${...}` in ledgerflow's terms, or a string saying why not (prefixed `!`). */
  body(raw: string, depth = 0): string {
    const body = dotted(raw.trim());
    const [head = '', second = '', ...rest] = body.split('.');
    if (head === 'workflow') {
      if (second === 'input' || second.startsWith('input[')) {
        const name = rest[0]?.replace(/\[.*$/, '');
        if (name) this.ctx.inputs.add(name);
        return body;
      }
      if (second === 'variables' || second.startsWith('variables[')) return body;
      if (second === 'secrets' && rest.length === 1) return `secrets.${rest[0]}`;
      if (second === 'env' && rest.length === 1) {
        this.ctx.noteOnce(
          `\${workflow.env.${rest[0]}} became \${secrets.${rest[0]}}: Orkes' environment values are ledgerflow secrets (\`ledgerflow secrets set ${rest[0]}\` on NATS, LEDGERFLOW_SECRET_${rest[0]} on the embedded store; see operations.md#secrets)`,
        );
        return `secrets.${rest[0]}`;
      }
      const field = WORKFLOW_FIELDS[second];
      if (field !== undefined && rest.length === 0) return `workflow.${field}`;
      return `!\${${raw}} has no ledgerflow equivalent (a template reads workflow.input, workflow.variables, workflow.runId, workflow.id, workflow.version and tasks' output and status)`;
    }
    // A reference name may hold dots (`fetch.data`): the longest one the body starts with.
    const ref =
      [...this.ctx.ids.keys()]
        .filter((r) => body === r || body.startsWith(`${r}.`))
        .sort((a, b) => b.length - a.length)[0] ?? head;
    const id = this.ctx.ids.get(ref);
    if (id === undefined) return this.missing(raw, head);
    const [field = '', ...after] = body.slice(ref.length + 1).split('.');
    const [fieldName] = field.split('[');
    const type = this.ctx.byRef.get(ref)?.type;
    if (fieldName === 'output' && (type === 'HTTP' || type === 'HTTP_POLL'))
      return this.httpOutput(raw, type === 'HTTP_POLL' ? this.ctx.pollRequests.get(ref)! : id, field, after);
    if (fieldName === 'output' || fieldName === 'status') return [id, field, ...after].join('.');
    if (fieldName === 'input' && after.length >= 1 && depth < 5) {
      // A task's input is what its inputParameters gave it: use that.
      const given = this.ctx.byRef.get(ref)?.inputParameters?.[after[0]!.replace(/\[.*$/, '')];
      if (after.length === 1 && typeof given === 'string' && /^\$\{[^{}]*\}$/.test(given.trim()))
        return this.body(given.trim().slice(2, -1), depth + 1);
    }
    return `!\${${raw}}: ledgerflow templates read a task's output and status (not its ${fieldName})`;
  }

  /**
   * An HTTP task's output as Conductor names it, `{ response: { body, statusCode, headers } }`, in ledgerflow's
   * `{ status, headers, body }`: `output.response.body.x` → `output.body.x`, `statusCode` → `status`.
   */
  private httpOutput(raw: string, id: string, field: string, after: string[]): string {
    if (field !== 'output' || after.length === 0) return [id, field, ...after].join('.');
    const [response = '', part, ...rest] = after;
    if (response !== 'response')
      return `!\${${raw}}: a Conductor HTTP task's output is { response: … }; ledgerflow's HTTP output is { status, headers, body }`;
    if (part === undefined) return `${id}.output`;
    const [partName = '', index = ''] = [part.replace(/\[.*$/, ''), part.slice(part.replace(/\[.*$/, '').length)];
    const mapped: Record<string, string> = { body: 'body', statusCode: 'status', headers: 'headers' };
    const to = mapped[partName];
    if (to === undefined) return `!\${${raw}}: ledgerflow's HTTP output has status, headers and body (not ${partName})`;
    // ledgerflow's header names are in lower case, each with one value (Conductor's are lists: `[0]` is that value).
    const [header, ...more] = rest;
    if (to === 'headers' && header !== undefined)
      return [
        id,
        'output',
        `${to}${index}`,
        header.replace(/^[^[]+/, (n) => n.toLowerCase()).replace(/\[0\]$/, ''),
        ...more,
      ].join('.');
    return [id, 'output', `${to}${index}`, ...rest].join('.');
  }

  /**
   * A reference to a task the workflow does not have (`${x_test_worker_1.output}`, `${CPEWF_TASK_ID}`): Conductor
   * resolves it to null at run time, and so does the import (MISSING), with a note naming it.
   */
  private missing(raw: string, head: string): string {
    this.ctx.noteOnce(
      `\${${raw.trim()}} names ${head}, which is no task of this workflow: Conductor resolves it to null at run time, and so does the import (null where it is the whole value, "" inside a longer text)`,
    );
    return MISSING;
  }

  /** A string with its references translated; refusals are recorded against the task. */
  text(s: string, t: ConductorTask | null): string {
    return s.replace(REF, (whole, raw: string) => {
      const b = this.body(raw);
      if (b === MISSING) return '';
      if (!b.startsWith('!')) return `\${${b}}`;
      if (t !== null) this.ctx.refuse(t, b.slice(1));
      else this.ctx.refusals.push({ task: '(workflow)', type: 'workflow', why: b.slice(1) });
      return whole;
    });
  }

  /** A value (map, list, string) with every string's references translated. */
  value(v: unknown, t: ConductorTask | null): unknown {
    if (typeof v === 'string') {
      const one = /^\$\{([^{}]*)\}$/.exec(v.trim());
      return one && this.body(one[1]!) === MISSING ? null : this.text(v, t);
    }
    if (Array.isArray(v)) return v.map((x) => this.value(x, t));
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.value(x, t)]));
    return v;
  }

  /** A condition operand for `$.name` in a script: the task's input of that name, as ledgerflow text. */
  dollar(t: ConductorTask, path: string[], extra?: (path: string[]) => string | null): string | null {
    const fromExtra = extra?.(path);
    if (fromExtra !== undefined && fromExtra !== null) return fromExtra;
    const [name, ...more] = path;
    if (name === undefined) return null;
    const given = t.inputParameters?.[name];
    if (given === undefined) return null;
    if (typeof given === 'string') {
      const m = /^\$\{([^{}]*)\}$/.exec(given.trim());
      if (m) {
        const b = this.body(m[1]!);
        if (b === MISSING) return more.length === 0 ? 'null' : null;
        if (b.startsWith('!')) return null;
        return `\${${[b, ...more].join('.')}}`;
      }
      if (more.length > 0 || given.includes('${')) return null;
      return JSON.stringify(given);
    }
    if (more.length === 0 && (typeof given === 'number' || typeof given === 'boolean' || given === null))
      return String(given);
    return null;
  }
}
