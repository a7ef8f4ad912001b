/** A real `ledgerflow ui` process (the built bin) for the dashboard's HTTP tests. */
import type { ChildProcess } from 'node:child_process';
import { spawnCli } from '../helpers/cli.js';

export interface UiProcess {
  base: string;
  token: string | null;
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

export async function startUiProcess(
  globals: string[],
  uiArgs: string[],
  opts: { cwd: string; env?: Record<string, string> },
): Promise<UiProcess> {
  const child = spawnCli([...globals, 'ui', '--port', '0', '--json', ...uiArgs], opts);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const info = await new Promise<{ base: string; token?: string }>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`ledgerflow ui did not start in 20 s:\n${err}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) {
        clearTimeout(timer);
        res(JSON.parse(line) as { base: string; token?: string });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`ledgerflow ui exited ${code}:\n${err}`));
    });
  });
  return {
    base: info.base.replace(/\/$/, ''),
    token: info.token ?? null,
    child,
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
