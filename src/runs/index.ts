/** The one run API (port.ts) and its implementation per store. */
export type { Acting } from './port.js';
export { embeddedRuns } from './embedded.js';
export { natsRuns } from './nats.js';
