/** The task list's changes: tasks added, removed, renamed, of another type, waiting for other tasks, set otherwise. */
import { durationText } from '../compiler/index.js';
import type { RetryPolicy, TaskDef } from '../definition/index.js';
import { finding, listed, type DiffContext } from './context.js';
import type { Finding } from './findings.js';
import { refText } from '../expressions/index.js';
import { readsOfTask } from './reads.js';
import { locate, taskPath, TASKS_KEY, type Spot } from './where.js';

const entry = (t: TaskDef): Spot => ({ path: taskPath(t.index) });
const keyOf = (t: TaskDef, key: string): Spot => ({ path: [...taskPath(t.index), key], onKey: true });

function added(ctx: DiffContext): Finding[] {
  return ctx.pairing.added.map((t) =>
    finding(
      'task-added',
      'note',
      `task ${t.id} (${t.type}) is new: runs under way get it only if they have not passed its place yet`,
      locate(ctx.source, entry(t)),
      t.id,
    ),
  );
}

function removed(ctx: DiffContext): Finding[] {
  const out: Finding[] = [];
  for (const t of ctx.pairing.removed) {
    // A valid new version cannot name a task it does not have; one known without validation (a registry's) may.
    const reads = readsOfTask(ctx.reads, t.id);
    const waiting = [...ctx.after.deps].filter(([, ds]) => ds.includes(t.id)).map(([id]) => id);
    if (reads.length > 0 || waiting.length > 0) {
      const first = reads[0];
      const what = first
        ? `${first.reader} still reads ${refText(first.ref)}`
        : `task ${waiting[0]} still waits for it`;
      const at = first
        ? locate(ctx.source, { path: first.path, inString: first.offset })
        : locate(ctx.source, keyOf(ctx.after.tasks.get(waiting[0]!)!, 'depends_on'));
      out.push(
        finding('task-removed', 'error', `task ${t.id} is removed but ${what}: remove that or keep the task`, at, t.id),
      );
      continue;
    }
    // Nearest to where it was: the first task that waited for it, else the task list itself.
    const dependents = [...ctx.before.deps]
      .filter(([, ds]) => ds.includes(t.id))
      .map(([id]) => ctx.pairing.newId.get(id))
      .filter((id): id is string => id !== undefined);
    const near = dependents.length > 0 ? ctx.after.tasks.get(dependents[0]!) : undefined;
    const was = dependents.length > 0 ? ` (${listed(dependents)} waited for it)` : '';
    out.push(
      finding(
        'task-removed',
        'warning',
        `task ${t.id} (${t.type}) is removed${was}: runs at it cannot move to this version as they are; see \`ledgerflow migrate ${ctx.after.def.id} --to ${ctx.source.file} --dry-run\``,
        near ? locate(ctx.source, entry(near)) : locate(ctx.source, TASKS_KEY),
        t.id,
      ),
    );
  }
  return out;
}

function renamed(ctx: DiffContext): Finding[] {
  return ctx.pairing.renames.map((r) =>
    finding(
      'task-renamed',
      'warning',
      `a likely rename of ${r.from} to ${r.to} (${listed(r.alike)}): migrate runs with \`--map ${r.from}=${r.to}\``,
      locate(ctx.source, entry(ctx.after.tasks.get(r.to)!)),
      r.to,
    ),
  );
}

function typeChanged(ctx: DiffContext): Finding[] {
  return ctx.pairing.pairs
    .filter(([old, now]) => old.type !== now.type)
    .map(([old, now]) =>
      finding(
        'task-type-changed',
        'error',
        `task ${now.id} was ${old.type} and is now ${now.type}: a run that reached it cannot carry its state over; give the ${now.type} task a new id`,
        locate(ctx.source, { path: [...taskPath(now.index), 'type'] }, entry(now)),
        now.id,
      ),
    );
}

function dependenciesChanged(ctx: DiffContext): Finding[] {
  const out: Finding[] = [];
  for (const [old, now] of ctx.pairing.pairs) {
    const was = (ctx.before.deps.get(old.id) ?? []).map((d) => ctx.pairing.newId.get(d) ?? d);
    const is = ctx.after.deps.get(now.id) ?? [];
    const gained = is.filter((d) => !was.includes(d));
    const lost = was.filter((d) => !is.includes(d));
    if (gained.length === 0 && lost.length === 0) continue;
    const parts = [
      ...(gained.length > 0 ? [`now waits for ${listed(gained)}`] : []),
      ...(lost.length > 0 ? [`no longer waits for ${listed(lost)}`] : []),
    ];
    out.push(
      finding(
        'dependencies-changed',
        'warning',
        `task ${now.id} ${parts.join(' and ')}: check what it reads is still there when it starts`,
        locate(ctx.source, keyOf(now, 'depends_on'), entry(now)),
        now.id,
      ),
    );
  }
  return out;
}

function retryText(r: RetryPolicy): string {
  return `${r.maxAttempts} attempt${r.maxAttempts === 1 ? '' : 's'}`;
}

function settingsChanged(ctx: DiffContext): Finding[] {
  const out: Finding[] = [];
  for (const [old, now] of ctx.pairing.pairs) {
    if (old.type !== now.type) continue;
    const changes: { text: string; key: string }[] = [];
    if (JSON.stringify(old.retry) !== JSON.stringify(now.retry)) {
      const text =
        old.retry.maxAttempts !== now.retry.maxAttempts
          ? `retries ${retryText(old.retry)} → ${retryText(now.retry)}`
          : 'retry policy changed';
      changes.push({ text, key: 'retry_policy' });
    }
    if (old.timeoutMs !== now.timeoutMs) {
      const t = (ms: number | undefined) => (ms === undefined ? 'none' : durationText(ms));
      changes.push({ text: `timeout ${t(old.timeoutMs)} → ${t(now.timeoutMs)}`, key: 'timeout' });
    }
    const h0 = ctx.before.handlers.get(old.id);
    const h1 = ctx.after.handlers.get(now.id);
    // A renamed task whose handler is its id's has a new handler by its new id alone: the rename says so already.
    const byId = old.id !== now.id && h0 === old.id && h1 === now.id;
    if (h0 !== h1 && !byId)
      changes.push({ text: `handler ${h0} → ${h1}`, key: now.handler ? 'handler' : 'assigned_to' });
    if (changes.length === 0) continue;
    out.push(
      finding(
        'task-settings-changed',
        'note',
        `task ${now.id}: ${changes.map((c) => c.text).join(', ')}; attempts started after the deploy use the new settings`,
        locate(ctx.source, ...changes.map((c) => keyOf(now, c.key)), entry(now)),
        now.id,
      ),
    );
  }
  return out;
}

export function taskFindings(ctx: DiffContext): Finding[] {
  return [
    ...added(ctx),
    ...removed(ctx),
    ...renamed(ctx),
    ...typeChanged(ctx),
    ...dependenciesChanged(ctx),
    ...settingsChanged(ctx),
  ];
}
