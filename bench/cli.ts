import type { Bench } from './kit.js';
export async function benchCli(_b: Bench): Promise<void> { throw new Error('not yet'); }
