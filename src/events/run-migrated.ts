/**
 * The data of `run.migrated` (docs/runs.md#migrating-in-flight-runs): an unsettled run taken over by another version of
 * its workflow. Kept apart so the event catalogue stays small.
 */
import { z } from 'zod';

const VersionRef = z.object({ version: z.number().int().positive(), hash: z.string().min(1) });

/**
 * From this event on the run goes on under `definition` (version `to`). `map`: the old task ids renamed to new ones
 * (old → new; {} when taken over as is). `fold`: the state the new version takes the run over in, as the fold persists
 * it (compiler/persisted-fold.ts): the run's events before this one folded again under the new definition, their task
 * ids renamed by `map`. Recorded, like run.started's definition, so that folding and replaying a migrated run need
 * nothing outside its log; replay checks it against that refold.
 */
export const RunMigratedData = z.object({
  from: VersionRef,
  to: VersionRef,
  map: z.record(z.string(), z.string()),
  by: z.string().min(1).optional(),
  definition: z.record(z.string(), z.unknown()),
  fold: z.object({
    value: z.unknown(),
    status: z.enum(['active', 'done']),
    context: z.record(z.string(), z.unknown()),
    entered: z.array(z.string()),
  }),
});
