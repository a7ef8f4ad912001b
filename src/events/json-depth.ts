/**
 * How deep a payload may nest objects and arrays. JSON.parse takes any depth (V8's parser does not recurse), but what
 * then handles the value does: JSON.stringify, the YAML printer, the history's labels, the state hash. A value nested a
 * few thousand levels overflowed their stacks after it was recorded (`status --yaml` near 2,000 levels, `history` and
 * replay near 3,000, the start's own JSON.stringify near 5,000), leaving a run no read could show. So every payload from
 * outside (a start's input, a signal's data, a handler's or a program's output, a worker's report) is held to this
 * depth where it comes in, and refused past it with the place named; what templates build from those stays far below
 * where anything overflows. 256 levels: eight times under the first overflow, far over what real documents nest
 * (Jackson, under Conductor, allows 1,000 by default; protobuf's parsers 100).
 */
export const MAX_JSON_DEPTH = 256;

/**
 * Whether `value` nests objects and arrays more than `max` levels deep (a bare object is 1 level). Level by level, not
 * recursive: a value deep enough to overflow a recursive walk is exactly what this looks for.
 */
export function nestsDeeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  if (value === null || typeof value !== 'object') return false;
  let level: object[] = [value];
  for (let depth = 1; level.length > 0; depth++) {
    if (depth > max) return true;
    const next: object[] = [];
    for (const v of level)
      for (const c of Array.isArray(v) ? v : Object.values(v)) if (c !== null && typeof c === 'object') next.push(c);
    level = next;
  }
  return false;
}

/** What a refusal says of a payload nested too deep: `place` is what it is (`input x`, `the output of task t`). */
export function tooDeepText(place: string, max: number = MAX_JSON_DEPTH): string {
  return `${place} nests objects and arrays more than ${max} levels deep; flatten it, or carry the deep part as a JSON string`;
}
