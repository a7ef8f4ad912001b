/** The clock a page shows durations "so far" against. */
import { useEffect, useState } from 'preact/hooks';

/**
 * Now, re-read every second while `ticking` (a run not settled is on the page): a waiting run's duration grows on the
 * runs list and on its own page alike, rather than each keeping the time it was drawn at.
 */
export function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [ticking]);
  return ticking ? now : Date.now();
}
