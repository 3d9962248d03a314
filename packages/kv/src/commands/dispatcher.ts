/**
 * Dispatch, in Redis 7's processCommand order: look the command up (unknown
 * command / unknown subcommand), check arity, check authentication, check
 * limits and memory (OOM for commands flagged denyoom), then run the handler
 * under the scheduler's key locks. Replies are data (`Reply`); the caller
 * encodes them for its connection.
 */
import type { Reply } from "../resp/reply.js";
import { error } from "../resp/reply.js";
import { toKey } from "../storage/memory.js";
import { type KeyValueStore, StoreLimitError } from "../storage/store.js";
import { lowerName } from "./arguments.js";
import {
  keyTooLong,
  NOAUTH,
  OOM,
  unknownCommand,
  unknownSubcommand,
  wrongArity,
} from "./replies.js";
import { ALL_KEYS, type LockScope, NO_LOCK, type Scheduler } from "./scheduler.js";
import type { NodeServices } from "./services.js";
import { COMMANDS, keyPositions } from "./table.js";
import type { ClientState, CommandContext, CommandSpec } from "./types.js";

export interface DispatchLogger {
  error(details: object, message: string): void;
}

export class CommandDispatcher {
  constructor(
    readonly store: KeyValueStore,
    readonly services: NodeServices,
    readonly scheduler: Scheduler,
    private readonly logger: DispatchLogger,
  ) {}

  /** Resolves the spec for `args`, or the error Redis would reply. */
  resolve(args: Buffer[]): CommandSpec | Reply {
    const name = lowerName(args[0]!);
    const spec = COMMANDS.get(name);
    if (spec === undefined) return unknownCommand(args);
    if (spec.subcommands !== undefined && args.length >= 2) {
      const subName = `${name}|${lowerName(args[1]!)}`;
      const sub = spec.subcommands.find((candidate) => candidate.name === subName);
      if (sub === undefined) return unknownSubcommand(args[1]!.toString("latin1"), name);
      return sub;
    }
    return spec;
  }

  execute(client: ClientState, args: Buffer[]): Reply | Promise<Reply> {
    const resolved = this.resolve(args);
    if (!("arity" in resolved)) return resolved;
    const spec = resolved;
    const arity = spec.arity;
    if ((arity > 0 && args.length !== arity) || args.length < -arity) return wrongArity(spec.name);
    if (!client.authenticated && !spec.flags.includes("no_auth")) return NOAUTH;
    if (spec.handler === undefined) return wrongArity(spec.name);
    const positions = keyPositions(spec, args.length);
    const maxKeyBytes = this.services.maxKeyBytes;
    for (const position of positions) {
      if (args[position]!.length > maxKeyBytes) return keyTooLong(maxKeyBytes);
    }
    if (spec.flags.includes("denyoom") && !this.store.admitWrite()) return OOM;
    client.lastCommand = spec.name;
    this.services.stats.countCall(spec.name);
    const handler = spec.handler;
    const run = (): Reply | Promise<Reply> => {
      const context: CommandContext = {
        store: this.store,
        services: this.services,
        client,
        nowMs: Date.now(),
        spec,
      };
      return handler(context, args);
    };
    const scope = this.scheduler.usesLocks ? lockScope(spec, args, positions) : NO_LOCK;
    if (scope.kind === "none") {
      try {
        const reply = run();
        return reply instanceof Promise
          ? reply.catch((cause: unknown) => this.internalError(spec, cause))
          : reply;
      } catch (cause) {
        return this.internalError(spec, cause);
      }
    }
    try {
      const reply = this.scheduler.run(scope, run);
      return reply instanceof Promise
        ? reply.catch((cause: unknown) => this.internalError(spec, cause))
        : reply;
    } catch (cause) {
      return this.internalError(spec, cause);
    }
  }

  private internalError(spec: CommandSpec, cause: unknown): Reply {
    if (cause instanceof StoreLimitError) return error(`ERR ${cause.message}`);
    const message = cause instanceof Error ? cause.message : String(cause);
    this.logger.error({ err: cause, command: spec.name }, "command failed");
    return error(`ERR internal error in '${spec.name}': ${message.replace(/[\r\n]/g, " ")}`);
  }
}

function lockScope(spec: CommandSpec, args: Buffer[], positions: number[]): LockScope {
  if (spec.wholeKeyspace === true) return ALL_KEYS;
  if (positions.length === 0) return NO_LOCK;
  return { kind: "keys", keys: positions.map((position) => toKey(args[position]!)) };
}
