// Preloaded (--require) into a CLI command by test/cli/file-store-no-nats.test.ts: when the process exits, the
// NATS client's modules it loaded (the @nats-io packages, from Node's CommonJS cache: an ES module import of
// them lands there too) are written to LEDGERFLOW_TEST_LOADED, one a line.
const { writeFileSync } = require('node:fs');
process.on('exit', () => {
  const loaded = Object.keys(require.cache).filter((f) => /[\\/]node_modules[\\/]@nats-io[\\/]/.test(f));
  writeFileSync(process.env.LEDGERFLOW_TEST_LOADED, loaded.join('\n'));
});
