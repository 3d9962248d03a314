/**
 * @scaleout/kv: the key-value node (Redis protocol, memcached protocol, HTTP)
 * over a pluggable store (memory cache tier or durable lsm). See README.md.
 */

export { CommandDispatcher } from "./commands/dispatcher.js";
export { ALL_KEYS, CommandScheduler, type LockScope, NO_LOCK } from "./commands/scheduler.js";
export { type ConfigSetError, type NodeServices, ServerStats } from "./commands/services.js";
export { COMMANDS, keyPositions, SUBCOMMANDS } from "./commands/table.js";
export type {
  ClientState,
  CommandContext,
  CommandFlag,
  CommandHandler,
  CommandSpec,
} from "./commands/types.js";
export { ConfigError, KV_ERROR_CODES, KvError, type KvErrorCode } from "./errors.js";
export { NODE_PROCESS_FLAGS } from "./limits.js";
export { expiryFromExptime, MEMCACHED_VERSION, MemcachedServer } from "./memcached/server.js";
export { KvNode, type NodePorts, type StartNodeOptions } from "./node.js";
export { encodeReply, encodeReplyToBuffer, type ProtocolVersion } from "./resp/encoder.js";
export {
  argsOf,
  type ParseEvent,
  type ParserLimits,
  type ParserOptions,
  type RangedCommand,
  RespParser,
  splitInlineArguments,
} from "./resp/parser.js";
export type { Reply } from "./resp/reply.js";
export * as replies from "./resp/reply.js";
export {
  CONFIG_NAMES,
  type ConfigSources,
  DEFAULT_NODE_CONFIG,
  type NodeConfig,
  parseMemory,
  resolveNodeConfig,
} from "./server/config.js";
export { EVICTION_POLICIES, type EvictionPolicy } from "./storage/eviction.js";
export {
  APPENDFSYNC_POLICIES,
  type AppendFsync,
  LSM_MAX_VALUE_BYTES,
  LsmStore,
  type LsmStoreOptions,
} from "./storage/lsm.js";
export { fromKey, MemoryStore, type MemoryStoreOptions, toKey } from "./storage/memory.js";
export type {
  Awaitable,
  EngineName,
  KeyValueStore,
  ScanPage,
  StoredEntry,
  StoreStats,
  WriteOptions,
} from "./storage/store.js";
export { StoreLimitError } from "./storage/store.js";
export {
  connectionHelp,
  DEFAULT_UP_OPTIONS,
  runUntilStopped,
  startLocalDeployment,
  type UpOptions,
} from "./up.js";
