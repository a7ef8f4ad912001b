/**
 * The editor's routes (docs/dashboard.md#editing-a-definition): a draft checked as `ledgerflow validate` checks a file
 * (400 with every issue at line:col), its replay verdict over the workflow's recorded runs, its deploy as
 * `ledgerflow deploy` does it on each store, the JSON Schema behind the editor's completion, and the bundled templates
 * to start from. Editing is deploying: with a users file each route asks for L1, as `deploy` does.
 */
import type { Context, Hono } from 'hono';
import { requireAllowed } from '../authority/index.js';
import { definitionJsonSchema } from '../definition/index.js';
import type { Actor } from './actions.js';
import type { Backend } from './backend.js';
import { checkDraft, draftTemplates, draftVerdict, invalidDraft, type CheckedDraft } from './editor.js';
import { ApiError } from './errors.js';
import { jsonBody } from './http.js';
import { DraftBody, parseBody } from './schemas.js';

// biome-ignore lint/suspicious/noExplicitAny: the app's own Env (its auth variable) is app.ts's; these routes only read the actor through `actor`.
export function editorRoutes(app: Hono<any>, backend: Backend, actor: (c: Context<any>) => Actor): void {
  /** The draft of the request, checked; with a users file only L1 or higher may edit (403 naming both levels). */
  const draftOf = async (c: Context): Promise<{ yaml: string; checked: CheckedDraft }> => {
    requireAllowed(actor(c).authority, 'deploy');
    const { yaml } = parseBody(DraftBody, await jsonBody(c));
    return { yaml, checked: checkDraft(yaml, backend.definitionsDir) };
  };
  const latestOf = async (id: string) =>
    Math.max(0, ...(await backend.definitions()).filter((d) => d.id === id).map((d) => d.version));

  app.get('/api/schema', (c) => c.json(definitionJsonSchema()));
  app.get('/api/templates', (c) => c.json({ templates: draftTemplates() }));

  app.post('/api/definitions/validate', async (c) => {
    const { checked } = await draftOf(c);
    if (!checked.valid) return c.json(invalidDraft(checked), 400);
    const def = checked.definition!;
    return c.json({
      valid: true,
      workflowId: def.id,
      version: def.version,
      latest: await latestOf(def.id),
      issues: checked.issues,
      graph: checked.graph,
      definition: def,
    });
  });

  app.post('/api/definitions/verdict', async (c) => {
    const { checked } = await draftOf(c);
    if (!checked.valid) return c.json(invalidDraft(checked), 400);
    return c.json(await draftVerdict(backend.store, checked.definition!));
  });

  app.post('/api/definitions/deploy', async (c) => {
    const { yaml, checked } = await draftOf(c);
    if (!checked.valid) return c.json(invalidDraft(checked), 400);
    if (!backend.deploy) throw new ApiError(501, 'LF_NOT_IMPLEMENTED', 'this server cannot deploy definitions');
    return c.json(await backend.deploy(actor(c), { yaml, definition: checked.definition! }));
  });
}
