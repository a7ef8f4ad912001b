/**
 * The YAML editor: CodeMirror 6 with the YAML language, completion from the definition language's JSON Schema, and lint
 * marks from the server's own check (`check`: the same validator as `ledgerflow validate`), asked once typing pauses
 * (the linter's delay is the debounce).
 */
import { useEffect, useRef } from 'preact/hooks';
import { basicSetup, EditorView } from 'codemirror';
import { Compartment, EditorState } from '@codemirror/state';
import { yaml } from '@codemirror/lang-yaml';
import { linter, lintGutter, type Diagnostic as LintDiagnostic } from '@codemirror/lint';
import { autocompletion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import type { Diagnostic } from '../types.js';
import { cursorPlace, schemaOptions, type SchemaNode } from './schema-complete.js';

/** How long typing pauses before the draft is checked. */
export const CHECK_DELAY_MS = 400;

/** A problem at `line:col` (1-based) as a range of the document: from there to the end of the word (at least one character). */
export function lintRange(
  doc: EditorState['doc'],
  line: number | undefined,
  col: number | undefined,
): { from: number; to: number } {
  const l = doc.line(Math.min(Math.max(line ?? 1, 1), doc.lines));
  const from = Math.min(l.from + Math.max((col ?? 1) - 1, 0), l.to);
  const word = /^[^\s:,\]}]+/.exec(doc.sliceString(from, l.to))?.[0].length ?? 0;
  return { from, to: Math.min(Math.max(from + word, from + 1), doc.length) };
}

/** The page's stylesheet does not reach into the shadow root: the editor's size and font are set here. */
const THEME = EditorView.theme({
  '&': { minHeight: '360px', maxHeight: '70vh', fontSize: '13px' },
  '.cm-scroller': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', minHeight: '360px' },
});

/** Read-only and not focusable for typing: the person may not edit here. */
const lockedIf = (locked: boolean) => [EditorState.readOnly.of(locked), EditorView.editable.of(!locked)];

function completeFrom(schema: () => SchemaNode | null) {
  return (ctx: CompletionContext): CompletionResult | null => {
    const s = schema();
    if (!s) return null;
    const line = ctx.state.doc.lineAt(ctx.pos);
    const lines = ctx.state.doc.sliceString(0, ctx.pos).split('\n');
    const place = cursorPlace(lines, ctx.pos - line.from);
    if (!place) return null;
    const options = schemaOptions(s, place);
    // Offered once a word is begun (or asked for: Ctrl-Space), not at every space typed.
    if (options.length === 0 || (place.prefix === '' && !ctx.explicit)) return null;
    return {
      from: ctx.pos - place.prefix.length,
      options: options.map((o) => ({
        label: o.label,
        type: o.kind === 'key' ? 'property' : 'enum',
        ...(o.detail ? { info: o.detail } : {}),
        ...(o.kind === 'key' ? { apply: `${o.label}: ` } : {}),
      })),
      validFor: /^[A-Za-z0-9_$-]*$/,
    };
  };
}

export function CodeEditor(props: {
  initial: string;
  /** Checks the text: the problems to mark (the page keeps the rest of the answer). */
  check: (text: string) => Promise<Diagnostic[]>;
  onChange: (text: string) => void;
  schema: SchemaNode | null;
  readOnly?: boolean;
  /** The view, for the page's "set version" button. */
  onView?: (view: EditorView) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  // Read-only is set again when the server refuses the person (a 403 on the first check).
  const readOnly = useRef(new Compartment());
  const latest = useRef(props);
  latest.current = props;
  useEffect(() => {
    // In a shadow root: CodeMirror's styles then go to the root's adopted style sheets (CSSOM), which the page's
    // strict CSP (style-src 'self') allows, where a <style> element in the document would be refused.
    const shadow = host.current!.shadowRoot ?? host.current!.attachShadow({ mode: 'open' });
    const parent = document.createElement('div');
    shadow.replaceChildren(parent);
    const v = new EditorView({
      parent,
      root: shadow,
      state: EditorState.create({
        doc: props.initial,
        extensions: [
          basicSetup,
          yaml(),
          THEME,
          readOnly.current.of(lockedIf(props.readOnly === true)),
          autocompletion({ override: [completeFrom(() => latest.current.schema)] }),
          lintGutter(),
          linter(
            async (v) => {
              const text = v.state.doc.toString();
              const problems = await latest.current.check(text);
              // The text may have changed while the server answered: marks are for the text they were made for.
              if (v.state.doc.toString() !== text) return [];
              return problems.map(
                (p): LintDiagnostic => ({
                  ...lintRange(v.state.doc, p.line, p.col),
                  severity: p.severity === 'warning' ? 'warning' : 'error',
                  message: `${p.line ?? 1}:${p.col ?? 1} ${p.message}`,
                  source: p.code,
                }),
              );
            },
            { delay: CHECK_DELAY_MS },
          ),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) latest.current.onChange(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    latest.current.onView?.(v);
    return () => v.destroy();
  }, []);
  useEffect(() => {
    view.current?.dispatch({ effects: readOnly.current.reconfigure(lockedIf(props.readOnly === true)) });
  }, [props.readOnly]);
  return <div class="code-editor" ref={host} data-testid="code-editor" />;
}
