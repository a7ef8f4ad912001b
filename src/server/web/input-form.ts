/**
 * The start form's fields from a definition's declared `input:` and the values typed into them turned into the run's
 * input (pure). Strings are taken as typed; numbers, booleans, objects and arrays are parsed, and a value that does not
 * parse is refused with the field named.
 */
import type { InputDecl } from '../../definition/types.js';

export interface FieldProblem {
  field: string;
  message: string;
}

/** What an empty field starts as: the declared default, as text. */
export function initialText(decl: InputDecl): string {
  if (decl.default === undefined) return decl.type === 'boolean' ? 'false' : '';
  return typeof decl.default === 'string' ? decl.default : JSON.stringify(decl.default);
}

export function buildInput(
  decls: readonly InputDecl[],
  texts: Record<string, string>,
): { input: Record<string, unknown>; problems: FieldProblem[] } {
  const input: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  for (const d of decls) {
    const raw = texts[d.name] ?? '';
    const refuse = (why: string) => problems.push({ field: d.name, message: `${d.name}${why}` });
    if (raw.trim() === '') {
      if (d.required && d.default === undefined) refuse(' is required');
      continue;
    }
    switch (d.type) {
      case 'string':
        input[d.name] = raw;
        break;
      case 'number': {
        const n = Number(raw);
        if (!Number.isFinite(n)) refuse(`: expected a number, got "${raw}"`);
        else input[d.name] = n;
        break;
      }
      case 'boolean':
        if (raw !== 'true' && raw !== 'false') refuse(': expected true or false');
        else input[d.name] = raw === 'true';
        break;
      default: {
        // object, array, any: JSON; for 'any', text that is not JSON is a string.
        try {
          const v: unknown = JSON.parse(raw);
          if (d.type === 'object' && (typeof v !== 'object' || v === null || Array.isArray(v)))
            refuse(': expected a JSON object');
          else if (d.type === 'array' && !Array.isArray(v)) refuse(': expected a JSON array');
          else input[d.name] = v;
        } catch {
          if (d.type === 'any') input[d.name] = raw;
          else refuse(`: not JSON (${d.type === 'object' ? '{"key": "value"}' : '["a", "b"]'})`);
        }
      }
    }
  }
  return { input, problems };
}
