import { MemoryEventStore } from '../../src/store/index.js';
import { runStoreContract } from './contract.js';

runStoreContract('memory', async () => ({ store: new MemoryEventStore(), cleanup: async () => {} }));
