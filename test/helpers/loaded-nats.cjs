// Preloaded (--require) into a CLI command by test/cli/file-store-no-nats.test.ts: when the process exits, the
// NATS client's modules it loaded are written to LEDGERFLOW_TEST_LOADED, one a line: the @nats-io packages from
// Node's CommonJS cache (an ES module import of them lands there too), and `bundled:@nats-io` when the client
// bundled into the command was loaded (store/jetstream/nats-lib.ts marks it: the bundle has no files to list).
const { writeFileSync } = require('node:fs');
process.on('exit', () => {
  const loaded = Object.keys(require.cache).filter((f) => /[\\/]node_modules[\\/]@nats-io[\\/]/.test(f));
  if (globalThis[Symbol.for('ledgerflow.natsClientLoaded')] === true) loaded.push('bundled:@nats-io/nats-core');
  writeFileSync(process.env.LEDGERFLOW_TEST_LOADED, loaded.join('\n'));
});
