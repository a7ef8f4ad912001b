/** The executor contract on NATS: ClusterEngines and a worker over a real nats-server (test/executor/contract.ts). */
import { noNats } from '../helpers/cluster.js';
import { runExecutorContract } from './contract.js';
import { natsExecutor } from './nats-adapter.js';

runExecutorContract('NATS engines and workers', natsExecutor, { skip: noNats });
// Flow control again with the handlers in the engines' processes (`ledgerflow engine --handlers`): admitted runs
// once stranded there as they did with remote workers.
runExecutorContract('NATS engines running the handlers', () => natsExecutor({ handlersOn: 'engines' }), {
  skip: noNats,
  only: ['flow-control'],
});
