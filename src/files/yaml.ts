/**
 * YAML for handler modules: a handler copied by `ledgerflow new` into a folder that installed nothing but ledgerflow
 * can import `ledgerflow` (the loader resolves it from anywhere) and nothing else of ledgerflow's dependencies, so the
 * YAML reading and writing the bundled handlers need is offered here (the `yaml` package's parse and stringify).
 */
import { parse, stringify } from 'yaml';

/** A YAML document's value (the `yaml` package's parse). */
export function parseYaml(text: string): unknown {
  return parse(text);
}

/** A value as a YAML document (the `yaml` package's stringify). */
export function stringifyYaml(value: unknown): string {
  return stringify(value);
}
