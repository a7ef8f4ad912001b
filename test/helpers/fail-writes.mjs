// Preloaded into the CLI (NODE_OPTIONS=--import) to play a disk that refuses
// writes: every write to a file whose name matches LF_FAIL_WRITES (a regex)
// fails with LF_FAIL_WRITES_CODE (default ENOSPC), as a full disk does once
// the file itself is made. Reads and everything else work.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const match = new RegExp(process.env.LF_FAIL_WRITES ?? '^$');
const code = process.env.LF_FAIL_WRITES_CODE ?? 'ENOSPC';
const refuse = (syscall) => async () => {
  throw Object.assign(new Error(`${code}: injected write failure, ${syscall}`), { code, syscall });
};
const p = fs.promises;
const { open, writeFile, appendFile } = p;
p.open = async function (path, ...rest) {
  const fh = await open.call(this, path, ...rest);
  if (match.test(String(path))) Object.assign(fh, { write: refuse('write'), writeFile: refuse('write'), appendFile: refuse('write') });
  return fh;
};
p.writeFile = function (path, ...rest) {
  return match.test(String(path)) ? refuse('open')() : writeFile.call(this, path, ...rest);
};
p.appendFile = function (path, ...rest) {
  return match.test(String(path)) ? refuse('open')() : appendFile.call(this, path, ...rest);
};
// The file store's group commit writes the run logs it keeps open synchronously (src/store/open-logs.ts,
// group-commit.ts): a descriptor opened for a matching file refuses writeSync too.
const refusedFds = new Set();
const { openSync, open: openCb, writeSync, closeSync } = fs;
fs.openSync = function (path, ...rest) {
  const fd = openSync.call(this, path, ...rest);
  if (match.test(String(path))) refusedFds.add(fd);
  return fd;
};
fs.open = function (path, ...rest) {
  const cb = rest.pop();
  return openCb.call(this, path, ...rest, (err, fd) => {
    if (!err && match.test(String(path))) refusedFds.add(fd);
    cb(err, fd);
  });
};
fs.writeSync = function (fd, ...rest) {
  if (refusedFds.has(fd)) throw Object.assign(new Error(`${code}: injected write failure, write`), { code, syscall: 'write' });
  return writeSync.call(this, fd, ...rest);
};
fs.closeSync = function (fd, ...rest) {
  refusedFds.delete(fd);
  return closeSync.call(this, fd, ...rest);
};
// The run index's cache is written through a descriptor with fs.write (src/query/cache-lines.ts).
const { write: writeCb, close: closeCb } = fs;
fs.write = function (fd, ...rest) {
  if (!refusedFds.has(fd)) return writeCb.call(this, fd, ...rest);
  const cb = rest.pop();
  process.nextTick(cb, Object.assign(new Error(`${code}: injected write failure, write`), { code, syscall: 'write' }));
};
fs.close = function (fd, ...rest) {
  refusedFds.delete(fd);
  return closeCb.call(this, fd, ...rest);
};
syncBuiltinESMExports();
