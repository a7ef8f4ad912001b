/**
 * `ledgerflow serve` as a library: the Service that drives every run of an embedded (file) store (service.ts), and what
 * it is told and tells (options.ts). Other modules import from here.
 */
export { Service } from './service.js';
export type { ServiceNotice, ServiceOptions, StopReport, TickHook } from './options.js';
export { runDriver } from './driven.js';
