/**
 * The order test files start in: the longest first (longest-processing-time first packs three workers on two
 * cores best), by the wall times of test/durations.json (`node scripts/test-durations.mjs <probe file>` writes it
 * from a CPU-probe run). vitest's own order uses its cache of the last run's durations, which a clean clone (CI)
 * does not have; it then starts the largest files first, and a small file that waits long (a settle time, a
 * debounce) could start last and hold the run's end alone. A file vitest has timed on this machine keeps its
 * cached duration; a file in neither starts first (a new test, likely the one being worked on).
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const committed = JSON.parse(readFileSync(new URL('./durations.json', import.meta.url), 'utf8')) as Record<
  string,
  number
>;

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const seconds = (f: TestSpecification): number => {
      const cached = this.ctx.cache.getFileTestResults(`${f.project.name}:${relative(root, f.moduleId)}`);
      if (cached) return cached.duration / 1000;
      return committed[relative(root, f.moduleId)] ?? Number.POSITIVE_INFINITY;
    };
    // Projects in vitest's own order (isolated first, then shared), the files of each by time, longest first.
    const byProject = await super.sort(files);
    const rank = new Map(byProject.map((f, i) => [f, i]));
    return [...files].sort((a, b) => {
      if (a.project.name !== b.project.name) return rank.get(a)! - rank.get(b)!;
      return seconds(b) - seconds(a) || rank.get(a)! - rank.get(b)!;
    });
  }
}
