/** The runs page's where box (docs/operations.md#search-attributes). */

/**
 * The where box's conditions (`customer=42 amount>100`, or separated by commas; a value with spaces in double quotes)
 * as the API's repeated `where` parameters.
 */
export function whereParams(text: string | undefined): string {
  if (!text) return '';
  const q = new URLSearchParams();
  for (const m of text.matchAll(/(?:[^\s,"]+|"[^"]*")+/g)) q.append('where', m[0]);
  return q.toString();
}
