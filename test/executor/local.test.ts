/** The executor contract on the local engine over the file store (test/executor/contract.ts). */
import { runExecutorContract } from './contract.js';
import { localExecutor } from './local-adapter.js';

runExecutorContract('local engine, file store', localExecutor);
