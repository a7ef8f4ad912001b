// Preloaded (`node --import`) into a ledgerflow process: it kills itself (SIGKILL) at its first write into a file whose
// name starts with LF_KILL_AT_LOCK (a lock being created), so the test sees what a kill -9 at that instant leaves.
// LF_KILL_AFTER_WRITE=1: just after that write instead (the lock's bytes written, not yet linked to its name).
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const prefix = process.env.LF_KILL_AT_LOCK;
if (prefix) {
  const fds = new Set();
  const { openSync, writeSync } = fs;
  fs.openSync = (path, ...rest) => {
    const fd = openSync(path, ...rest);
    if (String(path).startsWith(prefix)) fds.add(fd);
    return fd;
  };
  const after = process.env.LF_KILL_AFTER_WRITE === '1';
  fs.writeSync = (fd, ...rest) => {
    if (fds.has(fd) && !after) process.kill(process.pid, 'SIGKILL');
    const n = writeSync(fd, ...rest);
    if (fds.has(fd)) process.kill(process.pid, 'SIGKILL');
    return n;
  };
  syncBuiltinESMExports();
}
