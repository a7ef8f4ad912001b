/** The executor contract on NATS: ClusterEngines and a worker over a real nats-server (test/executor/contract.ts). */
import { noNats } from '../helpers/cluster.js';
import { runExecutorContract } from './contract.js';
import { natsExecutor } from './nats-adapter.js';

runExecutorContract('NATS engines and workers', natsExecutor, { skip: noNats });
