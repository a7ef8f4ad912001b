/**
 * The machine config, read once into what the interpreter steps through: per region, state → event type → transitions,
 * each state's eventless list, which states are final, document order; every guard and action already bound to its
 * implementation and params. Reading it also checks that the config stays inside the subset of statecharts the
 * interpreter implements (see interpreter.ts): anything else is refused here, so a change to the compiler cannot make
 * the fold silently differ from XState.
 */
import { LedgerflowError } from '../errors/index.js';
import type { ImplementationEvent, Implementations } from './implementations.js';
import type { SubsetConfig } from './chart-config.js';
import type {
  BoundAction,
  BoundGuard,
  Chart,
  ExitTransition,
  Region,
  RegionState,
  RegionTransition,
  TargetlessTransition,
  TopFinalState,
  Transition,
} from './chart-model.js';

/** The machine config uses something the fold's interpreter does not implement. */
export class UnsupportedStatechartError extends LedgerflowError {
  constructor(path: string, reason: string) {
    super(
      'LF_STATECHART_UNSUPPORTED',
      `the fold's statechart interpreter cannot run this machine config: ${path}: ${reason}`,
      { path, reason },
    );
  }
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function objectAt(v: unknown, path: string): Json {
  if (!isObject(v)) throw new UnsupportedStatechartError(path, 'expected an object');
  return v;
}

function stringAt(v: unknown, path: string): string {
  if (typeof v !== 'string' || v === '') throw new UnsupportedStatechartError(path, 'expected a non-empty string');
  return v;
}

function onlyKeys(node: Json, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(node)) {
    if (!allowed.includes(k))
      throw new UnsupportedStatechartError(`${path}.${k}`, `"${k}" is not supported here (only ${allowed.join(', ')})`);
  }
}

/** XState's toArray: one item or a list. */
function listAt(v: unknown): unknown[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Event descriptors the interpreter matches exactly: XState's wildcards and its own internal events are refused. */
function eventTypeAt(type: string, path: string): string {
  if (type === '' || type.includes('*') || type.startsWith('xstate.')) {
    throw new UnsupportedStatechartError(
      path,
      `event descriptor "${type}" is not supported (no wildcards, no xstate.* events)`,
    );
  }
  return type;
}

class ChartReader {
  constructor(private readonly impl: Implementations) {}

  guard(v: unknown, path: string): BoundGuard | null {
    if (v === undefined) return null;
    const { type, params } = typeof v === 'string' ? { type: v, params: undefined } : this.named(v, path);
    const check = Object.hasOwn(this.impl.guards, type) ? this.impl.guards[type] : undefined;
    if (!check) throw new UnsupportedStatechartError(path, `guard "${type}" has no implementation`);
    const reads =
      this.impl.guardReads && Object.hasOwn(this.impl.guardReads, type)
        ? this.impl.guardReads[type]!(params as never)
        : null;
    return { check, params, reads };
  }

  actions(v: unknown, path: string): BoundAction[] {
    return listAt(v).map((a, i) => {
      const at = `${path}[${i}]`;
      const { type, params } = typeof a === 'string' ? { type: a, params: undefined } : this.named(a, at);
      const run = Object.hasOwn(this.impl.actions, type) ? this.impl.actions[type] : undefined;
      // XState would silently skip an action it cannot find; the fold refuses it instead.
      if (!run) throw new UnsupportedStatechartError(at, `action "${type}" has no implementation`);
      const writes =
        this.impl.actionWrites && Object.hasOwn(this.impl.actionWrites, type)
          ? this.impl.actionWrites[type]!(params as never)
          : null;
      return { run, params, writes, watching: null };
    });
  }

  /** `{ type, params }`, as the compiler writes guards and actions. */
  private named(v: unknown, path: string): { type: string; params: unknown } {
    const node = objectAt(v, path);
    onlyKeys(node, ['type', 'params'], path);
    return { type: stringAt(node.type, `${path}.type`), params: node.params };
  }

  transitions<T>(v: unknown, path: string, target: (key: string, at: string) => T): Transition<T>[] {
    return listAt(v).map((t, i) => {
      const at = Array.isArray(v) ? `${path}[${i}]` : path;
      const node = objectAt(t, at);
      onlyKeys(node, ['target', 'guard', 'actions'], at);
      return {
        guard: this.guard(node.guard, `${at}.guard`),
        actions: this.actions(node.actions, `${at}.actions`),
        target: target(stringAt(node.target, `${at}.target`), `${at}.target`),
      };
    });
  }

  /** Transitions of the parallel state's `on` that have no target: guard and actions only. */
  targetless(v: unknown, path: string): TargetlessTransition[] {
    return listAt(v).map((t, i) => {
      const at = Array.isArray(v) ? `${path}[${i}]` : path;
      const node = objectAt(t, at);
      onlyKeys(node, ['guard', 'actions'], at);
      return { guard: this.guard(node.guard, `${at}.guard`), actions: this.actions(node.actions, `${at}.actions`) };
    });
  }
}

interface MutableState {
  key: string;
  region: Region;
  json: string;
  final: boolean;
  on: Map<string, RegionTransition[]>;
  always: RegionTransition[] | null;
}

/** A region, and the event types any of its states has transitions for. */
function readRegion(
  reader: ChartReader,
  key: string,
  index: number,
  v: unknown,
  path: string,
  machineId: string,
  parallelKey: string,
): { region: Region; eventTypes: Set<string> } {
  const node = objectAt(v, path);
  onlyKeys(node, ['initial', 'states'], path);
  const statesConfig = objectAt(node.states, `${path}.states`);
  const keys = Object.keys(statesConfig);
  if (keys.length === 0) throw new UnsupportedStatechartError(`${path}.states`, 'a region needs at least one state');
  const initialKey = stringAt(node.initial, `${path}.initial`);
  const region = { key, index, doneEvent: doneEvent(`${machineId}.${parallelKey}.${key}`) } as {
    initial: RegionState;
    states: ReadonlyMap<string, RegionState>;
  } & Omit<Region, 'initial' | 'states'>;
  const states = new Map<string, MutableState>();
  for (const k of keys) {
    const s = objectAt(statesConfig[k], `${path}.states.${k}`);
    states.set(k, {
      key: k,
      region: region as Region,
      json: `${JSON.stringify(key)}:${JSON.stringify(k)}`,
      final: s.type === 'final',
      on: new Map(),
      always: null,
    });
  }
  for (const [k, state] of states) {
    const at = `${path}.states.${k}`;
    const s = statesConfig[k] as Json;
    if (state.final) {
      onlyKeys(s, ['type'], at);
      continue;
    }
    onlyKeys(s, ['on', 'always'], at);
    const sibling = (target: string, tAt: string): RegionState => {
      const to = states.get(target);
      if (!to) throw new UnsupportedStatechartError(tAt, `"${target}" is not a state of region ${key}`);
      // A transition to its own state is XState v5's default self-transition (not re-entering): its actions run and
      // nothing is exited or entered, which the interpreter models as a region that does not move. Only final states
      // could tell otherwise, and they have no transitions.
      return to;
    };
    if (s.on !== undefined) {
      for (const [type, ts] of Object.entries(objectAt(s.on, `${at}.on`))) {
        state.on.set(eventTypeAt(type, `${at}.on.${type}`), reader.transitions(ts, `${at}.on.${type}`, sibling));
      }
    }
    if (s.always !== undefined) state.always = reader.transitions(s.always, `${at}.always`, sibling);
  }
  const initial = states.get(initialKey);
  if (!initial)
    throw new UnsupportedStatechartError(`${path}.initial`, `"${initialKey}" is not a state of region ${key}`);
  // Entering a final state at start-up would raise done events during XState's initial microstep, a case the interpreter does not model.
  if (initial.final) throw new UnsupportedStatechartError(`${path}.initial`, 'a region cannot start in a final state');
  region.initial = initial;
  region.states = reachableStates(initial);
  const eventTypes = new Set([...states.values()].flatMap((st) => [...st.on.keys()]));
  return { region: region as Region, eventTypes };
}

function doneEvent(stateId: string): ImplementationEvent {
  // Exactly what XState's createDoneStateEvent builds (no output: our final states declare none).
  return Object.freeze({ type: `xstate.done.state.${stateId}`, output: undefined });
}

function readTopFinal(reader: ChartReader, key: string, v: unknown, path: string): TopFinalState {
  const node = objectAt(v, path);
  onlyKeys(node, ['type', 'entry'], path);
  if (node.type !== 'final')
    throw new UnsupportedStatechartError(`${path}.type`, 'every top-level state but the initial one must be final');
  return { key, entry: reader.actions(node.entry, `${path}.entry`) };
}

/**
 * Binds a chart to its implementations: the interpreter's rendering of it. The config is typed, but it is also checked
 * here, once per compile: a chart built from a cast or a future compiler change that leaves the subset is refused with
 * UnsupportedStatechartError instead of being folded differently from XState.
 */
export function readChart(typed: SubsetConfig, impl: Implementations): Chart {
  const config = typed as unknown as Json;
  const reader = new ChartReader(impl);
  onlyKeys(config, ['id', 'initial', 'states'], 'machine');
  const machineId = stringAt(config.id, 'machine.id');
  const parallelKey = stringAt(config.initial, 'machine.initial');
  const top = objectAt(config.states, 'machine.states');
  const finals = new Map<string, TopFinalState>();
  for (const [key, v] of Object.entries(top)) {
    if (key !== parallelKey) finals.set(key, readTopFinal(reader, key, v, `states.${key}`));
  }
  const path = `states.${parallelKey}`;
  const parallel = objectAt(top[parallelKey], path);
  onlyKeys(parallel, ['type', 'states', 'always', 'onDone', 'on'], path);
  if (parallel.type !== 'parallel')
    throw new UnsupportedStatechartError(`${path}.type`, 'the initial state must be parallel');
  const regionsConfig = objectAt(parallel.states, `${path}.states`);
  const read = Object.entries(regionsConfig).map(([key, v], index) =>
    readRegion(reader, key, index, v, `${path}.states.${key}`, machineId, parallelKey),
  );
  const regions = read.map((r) => r.region);
  if (regions.length === 0)
    throw new UnsupportedStatechartError(`${path}.states`, 'the parallel state needs at least one region');

  const finalTarget = (key: string, at: string): TopFinalState => {
    const f = finals.get(key);
    if (!f) throw new UnsupportedStatechartError(at, `"${key}" is not a top-level final state`);
    return f;
  };
  const done = doneEvent(`${machineId}.${parallelKey}`);
  const exitOn = new Map<string, ExitTransition[]>();
  const targetlessOn = new Map<string, TargetlessTransition[]>();
  if (parallel.on !== undefined) {
    for (const [type, ts] of Object.entries(objectAt(parallel.on, `${path}.on`))) {
      const at = `${path}.on.${type}`;
      const items = listAt(ts);
      const withTarget = items.filter((t) => isObject(t) && t.target !== undefined).length;
      if (withTarget === 0 && items.length > 0) {
        // Targetless: XState runs the actions and exits and enters nothing (the parallel state is not re-entered).
        targetlessOn.set(eventTypeAt(type, at), reader.targetless(ts, at));
        continue;
      }
      if (withTarget !== items.length)
        throw new UnsupportedStatechartError(
          at,
          "an event's transitions on the parallel state must all have a target or all have none",
        );
      exitOn.set(eventTypeAt(type, at), reader.transitions(ts, at, finalTarget));
    }
  }
  if (parallel.onDone !== undefined)
    exitOn.set(done.type, reader.transitions(parallel.onDone, `${path}.onDone`, finalTarget));

  const listeners = new Map<string, Region[]>();
  for (const { region, eventTypes } of read) {
    for (const type of eventTypes) listeners.set(type, [...(listeners.get(type) ?? []), region]);
  }
  const regionsTemplate: Record<string, string> = {};
  for (const r of regions) regionsTemplate[r.key] = r.initial.key;
  return {
    parallelKey,
    regions,
    regionsTemplate,
    listeners,
    exitOn,
    targetlessOn,
    exitAlways: reader.transitions(parallel.always, `${path}.always`, finalTarget),
    doneEvent: done,
  };
}

/** A region's states by key, those its transitions reach from the initial state (walked once, when the chart was read). */
export function statesOf(region: Region): ReadonlyMap<string, RegionState> {
  return region.states;
}

/** The states reachable from `initial` by the region's transitions (`on` and `always`), by key. */
function reachableStates(initial: RegionState): ReadonlyMap<string, RegionState> {
  const seen = new Map<string, RegionState>();
  const visit = (s: RegionState) => {
    if (seen.has(s.key)) return;
    seen.set(s.key, s);
    for (const ts of s.on.values()) for (const t of ts) visit(t.target);
    for (const t of s.always ?? []) visit(t.target);
  };
  visit(initial);
  return seen;
}
