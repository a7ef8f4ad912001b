/**
 * Values that reach the operating system as written, refused here when what the system would say can be known now (at
 * run time each failed its task with a raw Node error: EISDIR, ERR_INVALID_ARG_VALUE):
 * - an `output_to` that names a directory: empty, `.`, `..`, or ending in `/`;
 * - a NUL character in a COMMAND's `command`, `cwd` or `env`, or in an `output_to`: no program argument, environment
 *   value or path holds one.
 * What only a template's value decides is refused by the executors, with the same codes (files/output.ts,
 * handlers/command.ts).
 */
import type { CheckContext } from './context.js';
import { isObj, type RawPath } from './issues.js';

export const OUTPUT_TO_DIRECTORY = 'LF_OUTPUT_TO_DIRECTORY';
export const NUL_CHARACTER = 'LF_NUL_CHARACTER';

/**
 * Whether a path (or a template of one) names a directory whatever its templates give: empty, or a last segment of `.`
 * or `..`, or a trailing separator. A last segment with a template in it is the template's to decide.
 */
export function namesADirectory(path: string): boolean {
  const p = path.trim();
  if (p === '' || /[/\\]$/.test(p)) return true;
  const last = p.split(/[/\\]/).at(-1)!;
  return last === '.' || last === '..';
}

export function checkOsValues(ctx: CheckContext): void {
  for (const t of ctx.def.tasks) {
    const raw = ctx.rawTask(t);
    const p = ctx.taskPath(t);
    const nul = (value: unknown, path: RawPath, what: string) => {
      if (typeof value === 'string' && value.includes('\0')) {
        ctx.error(
          NUL_CHARACTER,
          `${what} of task ${t.id} holds a NUL character (\\0), which no ${what.startsWith('output_to') ? 'path' : 'program argument or environment value'} can carry; remove it`,
          path,
        );
      }
    };
    if (typeof raw.output_to === 'string') {
      nul(raw.output_to, [...p, 'output_to'], 'output_to');
      if (namesADirectory(raw.output_to)) {
        const what =
          raw.output_to.trim() === '' ? 'is empty' : `is ${JSON.stringify(raw.output_to)}, which names a directory`;
        ctx.error(
          OUTPUT_TO_DIRECTORY,
          `output_to of task ${t.id} ${what}, not a file the output can be written to; name a file, e.g. output_to: out/${t.id}.yaml`,
          [...p, 'output_to'],
        );
      }
    }
    if (t.type !== 'COMMAND') continue;
    if (Array.isArray(raw.command)) raw.command.forEach((arg, i) => nul(arg, [...p, 'command', i], `command[${i}]`));
    nul(raw.cwd, [...p, 'cwd'], 'cwd');
    if (isObj(raw.env))
      for (const [name, value] of Object.entries(raw.env)) nul(value, [...p, 'env', name], `env ${name}`);
  }
}
