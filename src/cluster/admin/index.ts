/**
 * Operating a cluster: `doctor`, the dead-letter queue, local nats-server nodes and route checks, and
 * what waits in the task queues. How it fits: ./NOTES.md.
 */
export { DEAD_LETTER_KINDS, DeadLetterQueue, parseDeadLetterId, type DeadLetterEntry } from './dead-letter-queue.js';
export { writerText } from './dead-letter-rules.js';
export { inspectCluster } from './doctor.js';
export { ROUTE_PASSWORD, ROUTE_PASSWORD_RULE, ROUTE_USER, clusterNode, natsServerBinary } from './nats-server.js';
export { newRoutePassword, nodeName, waitForJetStream, type NodePorts } from './nats-server.js';
export { awaitServer, type AwaitServerOptions } from './await-server.js';
