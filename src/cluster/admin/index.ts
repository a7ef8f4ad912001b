/**
 * Operating a cluster: `doctor`, the dead-letter queue, local nats-server nodes and route checks, and
 * what waits in the task queues. How it fits: ./NOTES.md.
 */
export { DEAD_LETTER_KINDS, DeadLetterQueue, parseDeadLetterId, type DeadLetterEntry, type DeadLetterKind, type DeadLetterWriter, type ReplayResult } from './dead-letter-queue.js';
export { writerText } from './dead-letter-rules.js';
export { inspectCluster, type DoctorReport, type StreamHealth } from './doctor.js';
export { ROUTE_PASSWORD, ROUTE_PASSWORD_RULE, ROUTE_USER, clusterNode, natsServerBinary, newRoutePassword, nodeName, waitForJetStream, type ClusterNodeCommand, type NodePorts } from './nats-server.js';
export { checkRoutes, parseRoutes, routeFindings } from './route-check.js';
export { backlogByQueue, readTaskQueues } from './task-queue-stats.js';
