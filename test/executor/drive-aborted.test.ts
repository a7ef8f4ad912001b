import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine, parseDefinition } from '../../src/index.js';
import { tempDir } from '../helpers/cli.js';

const yaml = `workflow:
  id: waits-for-alice
  name: Waits for a person
  version: 1
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice] }
`;

describe('a drive told to stop before it began', () => {
  // A SUB_WORKFLOW's parent attempt that timed out while its child was being started hands the child's drive an
  // aborted signal: no abort event fires any more, and a drive until settled (serve's) waited on a person for ever.
  it('stops at once, the run left as it stands (waiting for its person), not held until it settles', async () => {
    const engine = createEngine({ storeDir: join(tempDir(), 'store') });
    const { definition } = parseDefinition(yaml, 'waits-for-alice.yaml');
    const runId = await engine.start(definition!, {});
    const view = await engine.drive(runId, { handlers: {}, untilSettled: true, signal: AbortSignal.abort() });
    expect(view.status).not.toMatch(/COMPLETED|FAILED|CANCELLED/);
    // Driven again without the stop, it goes on as before: the person's task waits.
    const waiting = await engine.drive(runId, { handlers: {} });
    expect(waiting.status).toBe('WAITING');
    expect(waiting.tasks.sign!.status).toBe('PENDING_APPROVAL');
  });
});
