/**
 * A COMMAND's program must not outlive the process that runs its attempt. Each program runs in a process group of its
 * own (command.ts), which a timeout or a cancel stops; but a process killed with -9 (or by the OOM killer) runs no
 * code, so its programs went on with parent 1, and a `resume` started the attempt again beside the first copy.
 *
 * Why a watchdog: Linux's PR_SET_PDEATHSIG is not reachable from Node, acts on one process only (not what the program
 * started) and fires when the spawning *thread* ends; recording each program's pid in the attempt's lease for `resume`
 * to kill is racy against pid reuse and leaves the program running until someone resumes. Instead each process that
 * runs COMMAND tasks starts one small `sh` watchdog, in a session of its own (a Ctrl-C to the terminal does not reach
 * it), whose stdin is a pipe only this process holds (libuv opens it close-on-exec: no program inherits it). This
 * process writes `+<pgid>` when a program's group starts and `-<pgid>` once it is gone. When this process dies, however
 * it dies, the kernel closes the pipe: the watchdog reads end-of-file and stops every group still listed, SIGTERM then
 * SIGKILL 2 s later, as a timeout does. One `sh` per process, not per attempt: a few hundred microseconds of CPU once.
 * Not on Windows (no process groups there; commands run as before).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/** POSIX sh: keeps the live groups in $g (" 1 2 3 "), stops those left when its stdin ends. */
const WATCHDOG = `g=' '
while IFS= read -r l; do
  case $l in
    +*) g="$g\${l#+} " ;;
    -*) p=\${l#-}; case $g in *" $p "*) g="\${g%% $p *} \${g#* $p }" ;; esac ;;
  esac
done
[ "$g" = ' ' ] && exit 0
for p in $g; do kill -TERM -"$p" 2>/dev/null; done
sleep 2
for p in $g; do kill -KILL -"$p" 2>/dev/null; done
`;

let watchdog: ChildProcess | null = null;

/** The running watchdog, started on first use (again if the last one died); null where there is none to have. */
function current(): ChildProcess | null {
  if (process.platform === 'win32') return null;
  if (watchdog && watchdog.exitCode === null && watchdog.signalCode === null && watchdog.stdin?.writable)
    return watchdog;
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', WATCHDOG], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  } catch {
    return null; // no /bin/sh: programs run unguarded, as they did before
  }
  // It must never keep this process alive, nor fail it: a dead watchdog is replaced at the next program.
  child.on('error', () => {
    if (watchdog === child) watchdog = null;
  });
  child.stdin!.on('error', () => {
    if (watchdog === child) watchdog = null;
  });
  child.unref();
  (child.stdin as Socket).unref();
  watchdog = child;
  return child;
}

/**
 * Spawns a program through `start` with its process group listed with the watchdog, so that the group is stopped if
 * this process dies before it ends. The watchdog is started before the program: starting it is a fork of this process,
 * which under load took longer than the program needed to start and be killed with this process (kill -9 between the
 * two left the program running, unlisted). Once the program is spawned, what is left is one write to a pipe, made
 * before the program is given its input (command.ts): a kill -9 in that instant is the one window left, as a process
 * group cannot be named before it exists. Returns the child and the call that unlists its group once it is gone.
 */
export function spawnGuarded<C extends { pid?: number | undefined }>(
  start: () => C,
): { child: C; unguard: () => void } {
  const w = current();
  const child = start();
  const pgid = child.pid;
  if (!w || pgid === undefined) return { child, unguard: () => {} };
  w.stdin!.write(`+${pgid}\n`);
  let done = false;
  const unguard = () => {
    if (done) return;
    done = true;
    // The same watchdog only: a new one never heard of the group.
    if (watchdog === w && w.stdin?.writable) w.stdin.write(`-${pgid}\n`);
  };
  return { child, unguard };
}
