/**
 * `--skills a,b` (and LEDGERFLOW_SKILLS): what a process, worker or agent can do, for skill routing
 * (docs/limits.md#skills). One rule for every command that takes it: names as a task's `requires:` writes them.
 */
import { SKILL_NAME } from '../../definition/index.js';
import { UsageError } from '../../errors/index.js';

/** The skills given (the flag, else LEDGERFLOW_SKILLS), each once; empty when neither says any. Refuses a name no task could require. */
export function parseSkills(
  flag: string | undefined,
  env: string | undefined = process.env.LEDGERFLOW_SKILLS,
): string[] {
  const text = flag ?? env ?? '';
  const skills = [
    ...new Set(
      text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
  ].sort();
  const bad = skills.find((s) => !SKILL_NAME.test(s));
  if (bad !== undefined) {
    throw new UsageError(
      `${flag !== undefined ? '--skills' : 'LEDGERFLOW_SKILLS'}: "${bad}" is not a skill name (letters, digits, _ and -, at most 64, starting with a letter or digit), e.g. --skills gpu,pdf`,
      { skill: bad },
    );
  }
  return skills;
}
