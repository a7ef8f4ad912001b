/**
 * Work done at most `atOnce` at a time, the rest waiting its turn in the order it came: for work that holds several
 * times its size while it runs (a large payload's body read and parsed, a start's large request body), where more at
 * once would only add memory, not finish sooner.
 */
export function inTurns(atOnce: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= atOnce) await new Promise<void>((go) => waiting.push(go));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
