/**
 * File agents: the 1N/0UT file protocol (docs/agents.md: tasks in as files in 1N.3OX/, results out in 0UT.3OX/). An agent is any
 * program that reads task files and writes result files; `ledgerflow agent`
 * is the worker between it and the runs' logs (file-agent.ts), the files'
 * shapes and limits are messages.ts, and each file operation a crash may fall
 * between is folders.ts.
 */
export { FileAgent, type FileAgentOptions, type PassReport } from './file-agent.js';
export { NatsExchange, type NatsExchangeOptions } from './nats-exchange.js';
export { MAX_RESULT_BYTES, judgeResult, readTaskMessage, type TaskMessage, type TaskHeader, type AgentResult } from './messages.js';
export { agentsSeen, beat, AGENTS_DOC, BEAT_MS, GONE_AFTER_MS, type AgentLine, type AgentSeen } from './registry.js';
