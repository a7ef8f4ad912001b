/**
 * The arguments after `run <file>` / `start <workflow>`: the command's own options mixed with workflow inputs
 * (`--<name> <value>`). Commander cannot tell them apart (it knows nothing of the definition, so `--arg --version`
 * printed the version and started nothing), so main() hands this tail over untouched (after a `--`) and the command
 * splits it once it has the definition: an input's value is the token after its name, taken verbatim whatever it looks
 * like; after a `--` of the user's every flag is an input.
 */
import type { Command } from 'commander';
import type { Definition } from '../../definition/index.js';
import { UsageError } from '../../errors/index.js';

/** An option of the command or of the program: its flags, where commander puts it, and whether it takes a value. */
/** `negate`: a `--no-<name>` option, which sets its attribute to false. */
export interface OptionSpec {
  flags: string[];
  attr: string;
  takesValue: boolean;
  global: boolean;
  negate: boolean;
}

/** The options a tail may hold: the command's and the program's (--store, --nats), without help and version. */
export function optionSpecs(command: Command): OptionSpec[] {
  return [...specsOf(command, false), ...(command.parent ? specsOf(command.parent, true) : [])];
}

function specsOf(cmd: Command, global: boolean): OptionSpec[] {
  return cmd.options
    .filter((o) => o.long !== '--version')
    .map((o) => ({
      flags: [o.long, o.short].filter((f): f is string => typeof f === 'string'),
      attr: o.attributeName(),
      takesValue: o.required || o.optional,
      global,
      negate: o.negate,
    }));
}

const specFor = (specs: OptionSpec[], flag: string) => specs.find((s) => s.flags.includes(flag));

/**
 * argv with the tail of `run` / `start` after a `--`, so commander takes it as operands: the command's own options
 * before the file stay where commander reads them. Any other argv (another command, help before the file) as it is.
 */
export function protectTail(argv: string[], program: Command): string[] {
  const globals = specsOf(program, true);
  let i = 0;
  // The program's options before the command: --store <dir>, --nats <url>.
  while (i < argv.length && argv[i]!.startsWith('-')) {
    const spec = specFor(globals, argv[i]!.split('=')[0]!);
    if (!spec) return argv; // -h, -V, or a mistake: commander answers it
    i += spec.takesValue && !argv[i]!.includes('=') ? 2 : 1;
  }
  const command = program.commands.find((c) => c.name() === argv[i]);
  if (command?.name() === 'stats') return ownVersionFlag(argv, i);
  if (!command || !['run', 'start', 'fork'].includes(command.name())) return argv;
  const specs = optionSpecs(command);
  for (let j = i + 1; j < argv.length; j++) {
    const tok = argv[j]!;
    if (tok === '--') return argv; // the user's own: commander already takes what follows as operands
    if (!tok.startsWith('-') || tok === '-') return [...argv.slice(0, j + 1), '--', ...argv.slice(j + 1)];
    const spec = specFor(specs, tok.split('=')[0]!);
    if (!spec) return argv; // --help before the file, or an unknown flag: commander answers it
    if (spec.takesValue && !tok.includes('=')) j++;
  }
  return argv;
}

/** What a tail held: the command's own options and the program's (by commander's attribute names), and the inputs by name (strings). */
export interface SplitTail {
  options: Record<string, string | boolean>;
  globals: Record<string, string>;
  inputs: Record<string, string>;
  help: boolean;
}

/**
 * Splits a tail. Own options are recognised until a `--`; everything else is an input, `--name value` (the next token
 * whatever it looks like) or `--name=value`; a boolean input may stand alone (`--dry_run`, or before a flag) or take a
 * value (`--dry_run false`). Without a definition (to connect before it is known) every input is taken to have a value;
 * `partial` reads such a tail for its options only, and lets a last input without one stand alone (a boolean input before
 * the last input reads so until the definition is known: the split that follows with it reports what is wrong).
 */
export function splitTail(tokens: string[], specs: OptionSpec[], def: Definition | null, partial = false): SplitTail {
  const declared = new Map(def?.inputs.map((d) => [d.name, d]) ?? []);
  const names = def ? def.inputs.map((d) => `--${d.name}`).join(', ') || '(none)' : '';
  const out: SplitTail = { options: {}, globals: {}, inputs: {}, help: false };
  let onlyInputs = false;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok === '--' && !onlyInputs) {
      onlyInputs = true;
      continue;
    }
    const eq = tok.indexOf('=');
    const flag = eq >= 0 ? tok.slice(0, eq) : tok;
    if (!onlyInputs) {
      if (flag === '--help' || flag === '-h') {
        out.help = true;
        continue;
      }
      const spec = specFor(specs, flag);
      if (spec) {
        const value = !spec.takesValue ? !spec.negate : eq >= 0 ? tok.slice(eq + 1) : tokens[++i];
        if (value === undefined) throw new UsageError(`option ${flag} needs a value`, { option: flag });
        if (spec.global) out.globals[spec.attr] = String(value);
        else out.options[spec.attr] = value;
        continue;
      }
    }
    if (!tok.startsWith('--') || tok.length === 2) {
      throw new UsageError(
        `unexpected argument "${tok}"; workflow inputs are given as --<name> <value>${def ? ` (declared: ${names})` : ''}`,
        { argument: tok },
      );
    }
    const name = flag.slice(2);
    const decl = declared.get(name);
    if (def && !decl) {
      throw new UsageError(
        `unknown option --${name}: it is neither an option of the command nor an input of workflow ${def.id} (declared inputs: ${names})`,
        { option: name },
      );
    }
    if (eq >= 0) {
      out.inputs[name] = tok.slice(eq + 1);
      continue;
    }
    const next = tokens[i + 1];
    // No boolean value starts with -: a boolean input followed by a flag (or by nothing) stands alone.
    if ((decl?.type === 'boolean' && (next === undefined || next.startsWith('-'))) || (partial && next === undefined)) {
      out.inputs[name] = 'true';
      continue;
    }
    if (next === undefined)
      throw new UsageError(
        `--${name} needs a value: --${name} <value> (a value starting with - is taken as it is: --${name} -5, or --${name}=-5)`,
        { option: name },
      );
    out.inputs[name] = next;
    i++;
  }
  return out;
}

/**
 * `stats <workflow> --version 2` asks for the workflow's version 2: commander would answer the program's `--version`
 * wherever it stands on the line, so after `stats` it is handed over as `--workflow-version`.
 */
function ownVersionFlag(argv: string[], at: number): string[] {
  return argv.map((tok, j) =>
    j <= at
      ? tok
      : tok === '--version'
        ? '--workflow-version'
        : tok.startsWith('--version=')
          ? `--workflow-version=${tok.slice('--version='.length)}`
          : tok,
  );
}
