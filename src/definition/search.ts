/**
 * Search attributes (`search:`, docs/operations.md#search-attributes): named, typed values a run is found by (`list
 * --where customer=42`). Declared on the workflow (resolved when a run starts, from its input) and set again by a SET
 * task's `search:`. Pure: the fold resolves them (compiler/actions.ts), the run index reads them from the fold
 * (query/record.ts).
 */
import type { SearchType, SearchValue } from './types.js';

export const SEARCH_TYPES = ['string', 'number', 'bool', 'time'] as const satisfies readonly SearchType[];

export const SEARCH_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const MAX_SEARCH_ATTRS = 32;
/** A string value longer than this is cut (the index keeps every run's values). */
const MAX_SEARCH_TEXT = 256;

/** The type a shorthand (`name: value`) has: a number or boolean literal is one; anything else (text, a template) is a string. */
export function shorthandType(v: unknown): SearchType {
  return typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'bool' : 'string';
}

/** A resolved value as its type; null when it is not one (a missing input, "abc" for a number): the attribute is then left unset. */
export function toSearchValue(type: SearchType, v: unknown): SearchValue | null {
  switch (type) {
    case 'string':
      if (typeof v === 'string') return v.slice(0, MAX_SEARCH_TEXT);
      return typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'boolean' ? String(v) : null;
    case 'number': {
      if (typeof v === 'number') return Number.isFinite(v) ? v : null;
      if (typeof v !== 'string' || v.trim() === '') return null;
      const n = Number(v);
      return Number.isFinite(n) ? n : null;
    }
    case 'bool':
      if (typeof v === 'boolean') return v;
      return v === 'true' ? true : v === 'false' ? false : null;
    case 'time':
      return timeText(v);
  }
}

/** An ISO time (normalized to UTC, milliseconds) from a date text or epoch milliseconds; null otherwise. */
function timeText(v: unknown): string | null {
  if (typeof v === 'number') return Number.isFinite(v) && Math.abs(v) <= 8.64e15 ? new Date(v).toISOString() : null;
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(v)) return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
