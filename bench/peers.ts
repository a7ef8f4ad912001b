import type { Bench } from './kit.js';
export interface PeerRig { name: string; round(workflows: number, concurrency: number): Promise<number>; close(): Promise<void> }
export async function openPeer(_b: Bench): Promise<PeerRig> { throw new Error('not yet'); }
export async function benchPeersAlone(_b: Bench): Promise<void> { throw new Error('not yet'); }
