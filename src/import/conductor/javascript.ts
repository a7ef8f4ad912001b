/**
 * Conductor JavaScript that is more than a plain comparison or value (script.ts, translate.ts), imported as a TRANSFORM
 * task with `js:` (run in QuickJS, src/transform/js.ts), never run by the importer: an INLINE as that task itself; a
 * SWITCH's script as a TRANSFORM before its DECISION, which reads its result; a DO_WHILE's loopCondition (and an
 * HTTP_POLL's terminationCondition) as the last task of the loop's body, whose result the loop_condition reads. The
 * deterministic core only ever compares recorded outputs.
 */
import type { Ctx, LfTask } from './context.js';
import type { ConductorTask } from './schema.js';
import { substituteJs } from './substitute.js';
import type { Templates } from './templates.js';

/** Conductor's javascript evaluator hands lists over as Java lists, with `.get(i)`; the import gives arrays the same. */
const JAVA_LIST_GET = "Object.defineProperty(Array.prototype, 'get', { value: function (i) { return this[i]; } });\n";

/** Parameters that configure Conductor's evaluation rather than give the script a value. */
const EVALUATOR_KEYS = new Set(['evaluatorType', 'expression', 'scriptExpression']);

/**
 * The script as a TRANSFORM's `js:` and the input it reads as `$`: the task's inputParameters (references translated),
 * and each `"${...}"` Conductor would have substituted into the script's text before running it replaced by an input of
 * its own (`$._lf_ref1`, substitute.ts). A LAMBDA's body is run as Conductor runs it (lambdaBody).
 */
export function scriptTask(
  t: ConductorTask,
  src: string,
  ctx: Ctx,
  tpl: Templates,
  params: Record<string, unknown> = t.inputParameters ?? {},
): { js: string; input: Record<string, unknown> } | null {
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) if (!EVALUATOR_KEYS.has(k)) input[k] = tpl.value(v, t);
  if (/^\s*\$\{[^{}]*\}\s*;?\s*$/.test(src)) {
    ctx.refuse(
      t,
      `its script is the reference ${src.trim()}: the program itself is chosen at run time, and a TRANSFORM's js is fixed`,
    );
    return null;
  }
  // Each ${...} Conductor would paste into the text becomes an input of its own, read where it stood (substitute.ts).
  const { text, refs } = substituteJs(t.type === 'LAMBDA' ? lambdaBody(src) : src);
  let js = text;
  for (const r of refs) input[r.name] = tpl.value(r.ref, t);
  const n = refs.length;
  if (n > 0)
    ctx.note(
      t,
      `the script's ${n === 1 ? 'reference' : `${n} references`} (\${…}, which Conductor pastes into the text) became input${n === 1 ? '' : 's'} (_lf_ref1…), read as $._lf_ref1…`,
    );
  if (/\.get\s*\(/.test(js)) {
    js = JAVA_LIST_GET + js;
    ctx.note(t, "the script calls .get(), as on Conductor's Java lists: a first line gives arrays a get(i)");
  }
  return { js, input };
}

/**
 * A LAMBDA's scriptExpression is a function body (`if ($.v > 1) { return {...}; }`): Conductor runs it as
 * `function scriptFun(){<body>} scriptFun();`, and so does the import.
 */
export function lambdaBody(src: string): string {
  return `function scriptFun(){${src}} scriptFun();`;
}

/** A TRANSFORM task's fields for a script (no id or depends_on). */
export function scriptFields(s: { js: string; input: Record<string, unknown> }): LfTask {
  return { type: 'TRANSFORM', ...(Object.keys(s.input).length > 0 ? { input: s.input } : {}), js: s.js };
}

/**
 * Names a loop condition reads as `$.<name>` or `$['<name>']`: Conductor gives a DO_WHILE's condition the loop's
 * inputParameters and, by reference name, the loop's own output and each body task's.
 */
export function dollarNames(src: string): Set<string> {
  const out = new Set<string>();
  for (const m of src.matchAll(/\$\s*(?:\.\s*([A-Za-z_$][\w$]*)|\[\s*(['"])([^'"]+)\2\s*\])/g)) out.add(m[1] ?? m[3]!);
  return out;
}
