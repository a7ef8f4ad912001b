/**
 * A COMMAND argument that starts with a template reaches the program as an option when its value starts with `-`
 * (`${x}` = `--delete-all`): `rm`, `git`, `curl` read it as a flag, not as the file it was meant to be. The fix is the
 * Unix one, a `--` before such arguments (everything after it is an operand), or the value inside an option
 * (`--file=${x}`). Warned, not refused: many values can never start with `-`, and only the author knows.
 *
 * An interpreter running a script (`sh scan.sh "${x}"`, `node x.js`, `pwsh -File x.ps1 -Folder "${x}"`) hands the
 * arguments after the script to the script: a `--` there would reach the script as its first argument, so only the
 * interpreter's own arguments, before the script, are looked at.
 */
import type { CheckContext } from './context.js';
import type { RawPath } from './issues.js';

/** Programs whose first operand is a script (or, with -c/-e, its text) that gets the arguments after it. */
const INTERPRETERS = new Set([
  'sh',
  'bash',
  'dash',
  'zsh',
  'ksh',
  'ash',
  'busybox',
  'node',
  'deno',
  'bun',
  'python',
  'python3',
  'ruby',
  'perl',
  'php',
  'pwsh',
  'powershell',
  'tsx',
  'Rscript',
  'osascript',
]);
/** Options of those interpreters that take the next argument as their value (a module, a file): skipped to find the script. */
const TAKES_VALUE = new Set([
  '-m',
  '-r',
  '--require',
  '--import',
  '--loader',
  '-o',
  '-O',
  '-I',
  '-W',
  '-X',
  '-ExecutionPolicy',
  '-WorkingDirectory',
  '-OutputFormat',
  '-InputFormat',
  '-Command',
]);

/** Where a template begins an argument: its value is the argument's start. */
const startsWithTemplate = (arg: string) => arg.startsWith('${');

export function checkOptionLikeArgs(ctx: CheckContext, taskId: string, command: string[], path: RawPath): void {
  if (command.length < 2) return;
  const program = (command[0]!.split(/[\\/]/).pop() ?? '').replace(/\.exe$/i, '');
  let last = command.length; // arguments from here on are another program's (a script's)
  if (INTERPRETERS.has(program)) {
    for (let i = 1; i < command.length; i++) {
      const arg = command[i]!;
      if (arg === '--') {
        last = i + 2;
        break;
      } // the script follows the --
      if (arg === '-File' || arg === '-f') {
        last = i + 2;
        break;
      } // pwsh -File <script>
      if (arg.startsWith('-')) {
        if (TAKES_VALUE.has(arg)) i++;
        continue;
      }
      last = i + 1; // the script (or -c's text): what follows is its own
      break;
    }
  }
  for (let i = 1; i < Math.min(last, command.length); i++) {
    const arg = command[i]!;
    if (arg === '--') return; // everything after it is an operand
    if (!startsWithTemplate(arg)) continue;
    ctx.warn(
      'LF_COMMAND_ARG_OPTION',
      `argument ${i} of COMMAND task ${taskId} starts with a template (${JSON.stringify(arg)}): a value starting with - reaches ${command[0]} as an option (e.g. --delete-all); put "--" before the templated arguments ([${[...command.slice(0, i), '--', ...command.slice(i)].map((a) => JSON.stringify(a)).join(', ')}]) if ${command[0]} takes options, or pass the value inside one (--name=${arg})`,
      [...path, 'command', i],
    );
  }
}
