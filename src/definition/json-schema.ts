/**
 * The JSON Schema of the YAML language, for editors and CI checks (`ledgerflow schema`, and shipped as
 * schema/ledgerflow.schema.json): generated from the zod schema (schema.ts) so the two never drift.
 *
 * - Draft-07, which `new Ajv({ strict: true })` and yaml-language-server read as they are: no union `type` arrays
 *   (strict Ajv wants allowUnionTypes for them), anyOf instead.
 * - Closed where `validate` flags an unknown key (issues.ts unknownKeys, the same KNOWN_KEYS): a misspelled
 *   `max_attemps` is refused in the editor instead of being ignored. validate only warns there (a newer definition
 *   still loads in an older engine); the editor's stricter word is the one a person writing the file wants. The older
 *   aliases (backoff_strategy, next_tasks, cron, …) are keys of the zod schema, so they stay allowed.
 * - Task types, which the loader reads in any case, match in any case too.
 */
import { z } from 'zod';
import { DefinitionSchema, FailureWorkflowSchema, TriggerSchema, WorkflowSchema } from './schema.js';
import { DecisionCaseSchema, RetryPolicySchema, TaskSchema } from './task-schema.js';
import { NotificationRuleSchema } from './notification-schema.js';
import { TASK_TYPES } from './task-types.js';

/** The schema's `$id`: the shipped file's URL on a CDN that serves npm packages' files, the same for every version. */
export const DEFINITION_SCHEMA_ID = 'https://unpkg.com/ledgerflow/schema/ledgerflow.schema.json';
/** The file in the package (package.json "files"), written by the build and checked fresh by a test. */
export const DEFINITION_SCHEMA_FILE = 'schema/ledgerflow.schema.json';

/** The maps whose keys validate knows (issues.ts): closed in the JSON Schema. */
const CLOSED = new Set<unknown>([
  DefinitionSchema,
  WorkflowSchema,
  WorkflowSchema.shape.input.unwrap(),
  TaskSchema,
  RetryPolicySchema,
  DecisionCaseSchema,
  FailureWorkflowSchema,
  TriggerSchema,
  NotificationRuleSchema,
]);

/** A regex matching a task type in any case (JSON Schema has no case-insensitive flag). */
const anyCase = (word: string) => [...word].map((c) => (/[A-Z]/.test(c) ? `[${c}${c.toLowerCase()}]` : c)).join('');
const TASK_TYPE_PATTERN = `^(?:${TASK_TYPES.map(anyCase).join('|')})$`;

/** JSON Schema of the YAML language, for editors (`ledgerflow schema`). */
export function definitionJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(DefinitionSchema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-07',
    override: ({ zodSchema, jsonSchema }) => {
      if (CLOSED.has(zodSchema)) jsonSchema.additionalProperties = false;
      if (zodSchema === TaskSchema.shape.type) {
        const { description } = jsonSchema;
        for (const k of Object.keys(jsonSchema)) delete (jsonSchema as Record<string, unknown>)[k];
        Object.assign(jsonSchema, {
          type: 'string',
          pattern: TASK_TYPE_PATTERN,
          description: `${description ?? 'Task type'} One of ${TASK_TYPES.join(', ')}.`,
        });
      }
    },
  }) as Record<string, unknown>;
  const { $schema, ...rest } = withoutTypeUnions(schema) as Record<string, unknown>;
  return { $schema, $id: DEFINITION_SCHEMA_ID, title: 'ledgerflow workflow definition', ...rest };
}

/** zod writes a union of primitives as `type: [a, b]`, which strict Ajv refuses (strictTypes): anyOf says the same. */
function withoutTypeUnions(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutTypeUnions);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = withoutTypeUnions(v);
  if (Array.isArray(out.type)) {
    const types = out.type as string[];
    delete out.type;
    out.anyOf = types.map((type) => ({ type }));
  }
  return out;
}
