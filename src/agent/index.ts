/**
 * File agents: the 1N/0UT file protocol (docs/agents.md: tasks in as files in 1N.3OX/, results out in 0UT.3OX/). An agent is any
 * program that reads task files and writes result files; `ledgerflow agent`
 * is the worker between it and the runs' logs (file-agent.ts), the files'
 * shapes and limits are messages.ts, and each file operation a crash may fall
 * between is folders.ts.
 */
export { FileAgent, type PassReport } from './file-agent.js';
export { NatsExchange } from './nats-exchange.js';
export { agentsSeen } from './registry.js';
