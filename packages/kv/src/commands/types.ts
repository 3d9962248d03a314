/**
 * Commands are declared as data (`CommandSpec`): name, arity, flags and key
 * positions, as in Redis's src/commands/*.json. One table (table.ts) drives
 * dispatch, arity errors, locking (from the key positions) and the replies of
 * COMMAND, COMMAND INFO and COMMAND DOCS.
 */
import type { ProtocolVersion } from "../resp/encoder.js";
import type { RangedCommand } from "../resp/parser.js";
import type { Reply } from "../resp/reply.js";
import type { KeyValueStore } from "../storage/store.js";
import type { NodeServices } from "./services.js";

/** Flags as Redis 7 reports them in COMMAND INFO. */
export type CommandFlag =
  | "write"
  | "readonly"
  | "denyoom"
  | "admin"
  | "pubsub"
  | "noscript"
  | "blocking"
  | "loading"
  | "stale"
  | "skip_monitor"
  | "skip_slowlog"
  | "fast"
  | "no_auth"
  | "may_replicate"
  | "no_mandatory_keys"
  | "allow_busy";

export interface ArgumentDoc {
  name: string;
  type:
    | "key"
    | "string"
    | "integer"
    | "double"
    | "pattern"
    | "unix-time"
    | "pure-token"
    | "oneof"
    | "block";
  token?: string;
  optional?: boolean;
  multiple?: boolean;
  arguments?: ArgumentDoc[];
}

export interface CommandSpec {
  /** Lower case, as Redis's fullname ("get", "client|setname"). */
  name: string;
  /** Positive: exact argument count including the name; negative: at least -arity. */
  arity: number;
  flags: readonly CommandFlag[];
  /** Key positions (first, last, step) as in COMMAND INFO; 0,0,0 for no keys; last -1 = to the end. */
  firstKey: number;
  lastKey: number;
  step: number;
  /** Needs the whole keyspace quiet (FLUSHALL, KEYS, SCAN…): runs behind a scheduler barrier. */
  wholeKeyspace?: boolean;
  group: "string" | "generic" | "connection" | "server";
  summary: string;
  since: string;
  complexity: string;
  arguments?: ArgumentDoc[];
  subcommands?: CommandSpec[];
  handler?: CommandHandler;
  /** The same command run from argument ranges (the hot path of commands like MSET); see RangedHandler. */
  rangedHandler?: RangedHandler;
}

/** Per-connection state commands may read or change. */
export interface ClientState {
  readonly id: number;
  name: string | undefined;
  libraryName: string | undefined;
  libraryVersion: string | undefined;
  protocol: ProtocolVersion;
  authenticated: boolean;
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly createdAtMs: number;
  lastInteractionMs: number;
  lastCommand: string;
  /** Set by QUIT / protocol errors: close once this reply is written. */
  closeAfterReply: boolean;
  queryBufferBytes(): number;
  outputBufferBytes(): number;
  kill(): void;
}

export interface CommandContext {
  readonly store: KeyValueStore;
  readonly services: NodeServices;
  readonly client: ClientState;
  /** Time of the command (Redis's commandTimeSnapshot), Unix ms. */
  readonly nowMs: number;
  readonly spec: CommandSpec;
}

export type CommandHandler = (context: CommandContext, args: Buffer[]) => Reply | Promise<Reply>;

/**
 * A handler that takes the parser's ranges instead of a view per argument
 * (RangedCommand). It must read the ranges before it returns (the parser
 * reuses them), and answer exactly as the command's `handler` would.
 */
export type RangedHandler = (
  context: CommandContext,
  command: RangedCommand,
) => Reply | Promise<Reply>;
