/**
 * A value's JSON text in a <pre>, its first 64 KiB until asked for the rest. A MAP of 20,000 items has an output of a
 * megabyte, four as indented text: laid out whole, a click on its task took the page more than a second.
 */
import { useState } from 'preact/hooks';
import { sizeText } from '../format.js';

/** Characters shown before "show all": a few thousand lines, more than anyone reads in a panel. */
export const SHOWN_CHARS = 64 * 1024;

export function JsonText(props: { text: string; class: string }) {
  const [whole, setWhole] = useState(false);
  const cut = !whole && props.text.length > SHOWN_CHARS;
  return (
    <>
      <pre class={props.class}>{cut ? `${props.text.slice(0, SHOWN_CHARS)}\n…` : props.text}</pre>
      {cut ? (
        <button type="button" class="link show-all" onClick={() => setWhole(true)}>
          Show all ({sizeText(props.text.length)} of text)
        </button>
      ) : null}
    </>
  );
}
