/** What converting one Conductor workflow collects as it walks the tasks: ids, ledgerflow tasks, reasons, notes. */
import type { ConductorTask } from './schema.js';

/** One thing that stops a workflow from being imported: the task (its reference name), its Conductor type, and why. */
export interface Refusal {
  task: string;
  type: string;
  why: string;
}

export type LfTask = Record<string, unknown>;

const ID = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** A ledgerflow task or workflow id from a Conductor name: other characters become _, at most 128. */
export function safeId(name: string, prefix = 't_'): string {
  let id = name.normalize('NFKD').replace(/[^A-Za-z0-9_-]/g, '_');
  if (!/^[A-Za-z_]/.test(id)) id = prefix + id;
  return id.slice(0, 128);
}

export class Ctx {
  /** taskReferenceName → ledgerflow task id. */
  readonly ids = new Map<string, string>();
  readonly byRef = new Map<string, ConductorTask>();
  /** A task's exits: what a task after it waits for (a SWITCH's are itself and the last task of each case). */
  readonly exits = new Map<string, string[]>();
  readonly tasks: LfTask[] = [];
  readonly refusals: Refusal[] = [];
  readonly notes: string[] = [];
  /** workflow.input names the templates read, to declare them. */
  readonly inputs = new Set<string>();
  /** Definitions found inline (a SUB_WORKFLOW's workflowDefinition), imported beside this one. */
  readonly extra: unknown[] = [];
  /** The DO_WHILE whose body is being read, if any. */
  loop: string | null = null;

  constructor(
    readonly subWorkflowId: (name: string) => string,
    readonly asSimple: ReadonlySet<string> = new Set(),
    readonly integrations = true,
  ) {}

  refuse(t: ConductorTask, why: string): void {
    this.refusals.push({ task: t.taskReferenceName, type: t.type, why });
  }

  note(t: ConductorTask | null, text: string): void {
    this.notes.push(t === null ? text : `${t.taskReferenceName} (${t.type}): ${text}`);
  }

  /** A note about the whole workflow, once however many templates give it. */
  noteOnce(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  /** Gives every task (nested ones too) its id first, so templates may name tasks that come later. */
  register(list: readonly ConductorTask[]): void {
    for (const t of list) {
      if (!this.byRef.has(t.taskReferenceName)) {
        let id = safeId(t.taskReferenceName);
        const taken = new Set(this.ids.values());
        for (let n = 2; taken.has(id); n++) id = `${safeId(t.taskReferenceName).slice(0, 120)}_${n}`;
        if (!ID.test(t.taskReferenceName) || id !== t.taskReferenceName)
          this.note(t, `task id ${id} (ledgerflow ids are letters, digits, _ and -)`);
        this.ids.set(t.taskReferenceName, id);
        this.byRef.set(t.taskReferenceName, t);
        if (t.type === 'HTTP_POLL') this.pollRequests.set(t.taskReferenceName, this.freshId(`${id}_request`));
      } else {
        this.refuse(t, `taskReferenceName ${t.taskReferenceName} is used twice`);
      }
      for (const c of Object.values(t.decisionCases ?? {})) this.register(c);
      this.register(t.defaultCase ?? []);
      for (const b of t.forkTasks ?? []) this.register(b);
      this.register(t.loopOver ?? []);
    }
  }

  /** An id for a task the importer adds (a script's TRANSFORM, a poll's request): `base`, or `base_2`… when taken. */
  freshId(base: string): string {
    const taken = new Set([...this.ids.values(), ...this.tasks.map((x) => x.id as string), ...this.added]);
    let id = safeId(base).slice(0, 120);
    for (let n = 2; taken.has(id); n++) id = `${safeId(base).slice(0, 120)}_${n}`;
    this.added.add(id);
    return id;
  }

  /** Ids of tasks the importer added (freshId). */
  private readonly added = new Set<string>();

  /** Reference names of tasks that start with a task the importer added before them (a SWITCH's script) → that task's id. */
  readonly entries = new Map<string, string>();

  /** HTTP_POLL reference names → the id of the HTTP task their DO_WHILE polls with (its output is the poll's). */
  readonly pollRequests = new Map<string, string>();

  id(t: ConductorTask): string {
    return this.ids.get(t.taskReferenceName) ?? safeId(t.taskReferenceName);
  }
}
