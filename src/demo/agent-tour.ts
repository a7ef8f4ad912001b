/**
 * The tour's file agent (docs/agents.md): one workflow whose task is done by a shell script through the 1N/0UT files.
 * The demo declares the queue, runs `ledgerflow agent`'s passes in-process (FileExchange) and, whenever a task file
 * waits, the shell script docs/agents.md prints, which answers it with the number of files in the folder it names.
 * Everything is written under the demo's output root, where the user can read the files afterwards.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FileExchange, StoreAttempts } from '../agent/index.js';
import { errorMessage } from '../errors/index.js';
import type { EventStore } from '../store/index.js';

export const AGENT_TOUR_WORKFLOW = 'file_agent_tour';
const QUEUE = 'file_agents';

const WORKFLOW = `workflow:
  id: ${AGENT_TOUR_WORKFLOW}
  name: A task done by a shell script through 1N.3OX/0UT.3OX
  version: 1
  input:
    required: [folder]
  output:
    files: "\${count_files.output.files}"
  tasks:
    - id: count_files
      type: SIMPLE
      queue: ${QUEUE}          # the queue \`ledgerflow agent --queue ${QUEUE}\` serves
      agent_level: L3
      timeout: 30s
      input: { folder: "\${workflow.input.folder}" }
`;

/** The shell agent of docs/agents.md's quick start. */
const SCRIPT = `#!/bin/sh
# answers every task in 1N.3OX/ with the number of files in its folder
for f in 1N.3OX/task-*.yaml; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .yaml); name=\${name#task-}
  token=$(sed -n 's/^  token: //p' "$f")
  folder=$(sed -n 's/^  folder: //p' "$f")
  count=$(ls "$folder" | wc -l)
  printf 'token: %s\\nstatus: completed\\noutput:\\n  files: %s\\n' "$token" "$count" > "0UT.3OX/.$name.tmp"
  mv "0UT.3OX/.$name.tmp" "0UT.3OX/result-$name.yaml"
done
`;

export interface AgentTour {
  /** The workflow file written for the tour. */
  file: string;
  /** Stops the passes (after the one under way). */
  stop(): Promise<void>;
}

/** Writes the tour's workflow and script under `dir`, declares the queue, and starts the agent's passes. */
export async function startAgentTour(
  store: EventStore,
  dir: string,
  say: (line: string) => void,
  fail: (message: string) => void,
): Promise<AgentTour> {
  for (const sub of ['1N.3OX', '0UT.3OX']) mkdirSync(join(dir, sub), { recursive: true });
  const file = join(dir, 'file-agent-tour.yaml');
  writeFileSync(file, WORKFLOW);
  writeFileSync(join(dir, 'agent.sh'), SCRIPT, { mode: 0o755 });
  const ex = {
    inbox: join(dir, '1N.3OX'),
    outbox: join(dir, '0UT.3OX'),
    queue: QUEUE,
    log: (line: string) => say(`    agent: ${line.replaceAll(`${dir}/`, '')}`),
  };
  const attempts = new StoreAttempts({ ...ex, store, level: 'L3', skills: [], name: 'agent:shell' });
  const agent = new FileExchange(ex, attempts);
  await attempts.declare();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        await agent.pass();
        if (readdirSync(join(dir, '1N.3OX')).some((n) => n.startsWith('task-'))) {
          say('    agent: sh agent.sh answers the task files in 1N.3OX/');
          await promisify(execFile)('sh', ['agent.sh'], { cwd: dir });
        }
      } catch (err) {
        fail(`the tour's file agent: ${errorMessage(err)}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    file,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
