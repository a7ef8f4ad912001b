/**
 * What was thrown, in words: an Error's message, anything else as a string. JavaScript lets anything be thrown (a
 * string, an object, undefined), so a catch never assumes an Error: `(err as Error).message` of a thrown string is
 * undefined, and said as "undefined".
 */
export function errorMessage(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message;
  if (typeof thrown === 'string') return thrown;
  if (typeof thrown === 'object' && thrown !== null && typeof (thrown as { message?: unknown }).message === 'string') {
    return (thrown as { message: string }).message;
  }
  return String(thrown);
}
