/** The definition as `check` has it: parsed, and where it came from (the text gives positions). */
import type { LoadedDefinition } from '../files/index.js';

/** `text` is absent for a version known without it (a deployed one from the registry): findings then point at 1:1. */
export type CheckedDefinition = Pick<LoadedDefinition, 'definition' | 'file' | 'text'>;
