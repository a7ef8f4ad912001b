// The five steps of bench/kit.ts FIVE_YAML as a handler module for `ledgerflow engine --handlers` (bench/handlers-rig.ts):
// what fiveHandlers() returns, in the shape the CLI loads (a default export of name → function).
export default Object.fromEntries(['s1', 's2', 's3', 's4', 's5'].map((s) => [s, async () => ({ step: s })]));
