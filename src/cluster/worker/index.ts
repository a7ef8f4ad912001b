/**
 * Remote workers: `createWorker({ nats, handlers })` takes attempts of its handlers from its queue's
 * stream (or an engine's direct offer), runs them and reports the outcome. How it works: ./NOTES.md.
 */
export { createWorker, type Worker, type WorkerOptions } from './worker.js';
