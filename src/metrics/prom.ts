/**
 * prom-client, loaded when metrics are first made rather than when this module is: src/index.ts re-exports the metrics,
 * so every handler module that imports `ledgerflow` (and every CLI command that loads one) would otherwise load
 * prom-client and its default collectors for nothing (about 50 ms of CPU per `ledgerflow run`). prom-client is
 * CommonJS: a synchronous require, so createMetrics stays synchronous. Node's require cache keeps the one instance (a
 * user's registry and ours are the same prom-client).
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

export function promClient(): typeof PromClient {
  return createRequire(import.meta.url)('prom-client') as typeof PromClient;
}
