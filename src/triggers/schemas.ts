/**
 * Event type files, `events/<type>.yaml`: `{ type, description, schema, sample }` where `schema` is JSON Schema written
 * in YAML, converted with zod's own `z.fromJSONSchema` (so no second validator lives here). It supports what event
 * payloads need: type, required, properties, enum, minimum/maximum, pattern, format, items, additionalProperties,
 * $defs/$ref; it refuses if/then/else, not and dependentSchemas, which we report as a bad file. Pure: the caller reads
 * the file.
 */
import { parse } from 'yaml';
import { z } from 'zod';
import { EVENT_TYPE_PATTERN } from '../definition/index.js';
import { LedgerflowError, errorMessage } from '../errors/index.js';
import { describeIssues } from './envelope.js';

/** A broken `events/<type>.yaml`: configuration, not a bad event (exit 2, nothing dead-lettered). */
export class EventTypeFileError extends LedgerflowError {
  constructor(file: string, problem: string) {
    super('LF_EVENT_SCHEMA_INVALID', `${file}: ${problem}`, { file, problem });
  }
}

export interface EventTypeSpec {
  type: string;
  description?: string;
  /** The JSON Schema as written. */
  jsonSchema: Record<string, unknown>;
  schema: z.ZodType;
  sample?: Record<string, unknown>;
  file: string;
}

const SpecFile = z.object({
  type: z.string().regex(EVENT_TYPE_PATTERN),
  description: z.string().optional(),
  schema: z.record(z.string(), z.unknown()),
  sample: z.record(z.string(), z.unknown()).optional(),
});

/** Parses and checks one file: its name is its type, its schema converts, its sample passes its schema. */
export function parseEventTypeFile(text: string, file: string, expectedType?: string): EventTypeSpec {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new EventTypeFileError(file, `YAML: ${errorMessage(err)}`);
  }
  const shape = SpecFile.safeParse(doc);
  if (!shape.success) {
    throw new EventTypeFileError(
      file,
      `expected { type, description?, schema: <JSON Schema>, sample? }: ${describeIssues(shape.error.issues).join('; ')}`,
    );
  }
  const { type, description, schema: jsonSchema, sample } = shape.data;
  if (expectedType !== undefined && type !== expectedType) {
    throw new EventTypeFileError(
      file,
      `declares type "${type}" but the file is named for "${expectedType}"; the file name must be <type>.yaml`,
    );
  }
  let schema: z.ZodType;
  try {
    schema = z.fromJSONSchema(jsonSchema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (err) {
    throw new EventTypeFileError(file, `schema is not JSON Schema ledgerflow can check: ${errorMessage(err)}`);
  }
  const spec: EventTypeSpec = {
    type,
    jsonSchema,
    schema,
    file,
    ...(description !== undefined ? { description } : {}),
    ...(sample ? { sample } : {}),
  };
  if (sample) {
    const problems = checkEventData(spec, sample);
    if (problems.length > 0)
      throw new EventTypeFileError(file, `its own sample fails its schema: ${problems.join('; ')}`);
  }
  return spec;
}

/** Every way `data` breaks the schema, one line each ("data.revenue: missing (required)"); [] when it fits. */
export function checkEventData(spec: EventTypeSpec, data: unknown): string[] {
  const r = spec.schema.safeParse(data);
  return r.success ? [] : describeIssues(r.error.issues, ['data']);
}
