// A process of a user's, as docs/library-api.md shows it: the built package, `startRun` N runs of a
// workflow file, then `drive` them all at once. argv: <root> <workflow.yaml> <store> <count> [<id prefix>]. Prints
// `started` once every run is recorded and `done <statuses>` at the end (unless killed before).
const [root, file, storeDir, count, prefix = 'order'] = process.argv.slice(2);
const { createEngine, loadDefinitionFile, loadHandlerModule } = await import(`${root}/dist/index.js`);
const { definition, handlersPath } = loadDefinitionFile(file);
const handlers = await loadHandlerModule(handlersPath);
const engine = createEngine({ storeDir });
const ids = [];
for (let i = 0; i < Number(count); i++) ids.push((await engine.startRun(definition, { n: i }, { runId: `${prefix}-${i}` })).runId);
console.log('started');
const driven = await Promise.allSettled(ids.map((id) => engine.drive(id, { handlers })));
const statuses = {};
for (const d of driven) {
  const k = d.status === 'fulfilled' ? d.value.status : `rejected: ${d.reason?.message}`;
  statuses[k] = (statuses[k] ?? 0) + 1;
}
console.log(`done ${JSON.stringify(statuses)}`);
