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
syncBuiltinESMExports();
