/**
 * The CMD.BRIDGE (the command bridge, one command a line): lines such as
 * `@workflow inventory-validation-v1 target_folder=0UT.3OX` read into commands (lines.ts). The `ledgerflow bridge`
 * command that takes them from standard input, a file or an inbox folder is cli/commands/bridge.ts. See docs/bridge.md.
 */
export { parseBridgeLine, BridgeLineError, type BridgeCommand } from './lines.js';
