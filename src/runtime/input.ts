/**
 * Workflow inputs checked against the definition's `input` declaration: unknown names, missing required ones and wrong
 * types are refused with a message that names the input and the fix. Values given as strings (CLI flags) are converted
 * to the declared type.
 */
import type { Definition, InputDecl, JsonValue } from '../definition/index.js';
import { InputError, quoteNames, quoteValue, someNames } from '../errors/index.js';
import { nestsDeeperThan, tooDeepText } from '../events/index.js';

/** An input nested deeper than a payload may (events/json-depth.ts), refused before anything prints or records it. */
function tooDeep(name: string): InputError {
  return new InputError(tooDeepText(`input ${name}`), { input: name });
}

function convert(decl: InputDecl, value: unknown, fromString: boolean): unknown {
  const bad = (expected: string) =>
    new InputError(`input ${decl.name} must be ${expected}, got ${quoteValue(value)}`, {
      input: decl.name,
      expected,
    });
  if (!fromString || typeof value !== 'string') {
    const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
    if (decl.type !== 'any' && actual !== decl.type) throw bad(`a ${decl.type}`);
    return value;
  }
  switch (decl.type) {
    case 'string':
    case 'any':
      return value;
    case 'boolean':
      if (['true', 'yes', '1'].includes(value.toLowerCase())) return true;
      if (['false', 'no', '0'].includes(value.toLowerCase())) return false;
      throw bad('true or false');
    case 'number': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw bad('a number');
      return n;
    }
    case 'object':
    case 'array': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        throw bad(`JSON (${decl.type})`);
      }
      if (nestsDeeperThan(parsed)) throw tooDeep(decl.name);
      return convert(decl, parsed, false);
    }
  }
}

export function prepareInput(
  def: Definition,
  raw: Record<string, unknown>,
  opts: { fromStrings?: boolean } = {},
): Record<string, JsonValue> {
  const declared = new Map(def.inputs.map((d) => [d.name, d]));
  const names = def.inputs.map((d) => d.name).join(', ') || '(none)';
  const unknown = Object.keys(raw).filter((k) => !declared.has(k));
  if (unknown.length > 0) {
    throw new InputError(
      `unknown input${unknown.length > 1 ? 's' : ''} ${quoteNames(unknown)} for workflow ${def.id}; declared inputs: ${names}`,
      { unknown: someNames(unknown), unknownCount: unknown.length, declared: def.inputs.map((d) => d.name) },
    );
  }
  const out: Record<string, JsonValue> = {};
  const missing: string[] = [];
  for (const decl of def.inputs) {
    if (Object.hasOwn(raw, decl.name)) {
      if (nestsDeeperThan(raw[decl.name])) throw tooDeep(decl.name);
      out[decl.name] = convert(decl, raw[decl.name], opts.fromStrings ?? false) as JsonValue;
    } else if (decl.default !== undefined) out[decl.name] = decl.default;
    else if (decl.required) missing.push(decl.name);
  }
  if (missing.length > 0) {
    throw new InputError(
      `missing required input${missing.length > 1 ? 's' : ''} ${missing.join(', ')} for workflow ${def.id}: give ${missing.length > 1 ? 'each' : 'it'} a value in the run's input`,
      { missing },
    );
  }
  return out;
}
