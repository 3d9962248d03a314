/**
 * Dispatch, in Redis 7's processCommand order: look the command up (unknown
 * command / unknown subcommand), check arity, check authentication, check
 * limits and memory (OOM for commands flagged denyoom), then run the handler
 * under the scheduler's key locks. Replies are data (`Reply`); the caller
 * encodes them for its connection.
 */

import { argsOf, type RangedCommand } from "../resp/parser.js";
import type { Reply } from "../resp/reply.js";
import { error } from "../resp/reply.js";
import { sameBytes, sameBytesRange, toKey } from "../storage/memory.js";
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
import type { CallCounter, NodeServices } from "./services.js";
import { COMMANDS, keyPositions } from "./table.js";
import type { ClientState, CommandContext, CommandSpec } from "./types.js";

export interface DispatchLogger {
  error(details: object, message: string): void;
}

/** What dispatch needs per command, derived once from its spec. */
interface DispatchEntry {
  readonly spec: CommandSpec;
  readonly noAuth: boolean;
  readonly denyOom: boolean;
  readonly counter: CallCounter;
}

/** args[0] of a command run from ranges after its lookup (see executeRanged). */
const NAME_NOT_VIEWED = Buffer.alloc(0);

/** Command names up to this long are remembered byte for byte (see `lookup`). */
const LAST_NAME_BYTES = 32;

/**
 * Command names as clients typed them ("GET", "get", "Get") → entry, so the
 * hot path does one map lookup on the raw name instead of lower-casing it.
 * Only names of known commands are cached, and only up to this many spellings.
 */
const MAX_CACHED_NAME_SPELLINGS = 4096;

export class CommandDispatcher {
  private readonly byTypedName = new Map<string, DispatchEntry>();
  private readonly entries = new Map<CommandSpec, DispatchEntry>();
  /** The last cacheable name looked up (its bytes) and its entry: a pipeline repeats one command. */
  private readonly lastName = Buffer.alloc(LAST_NAME_BYTES);
  private lastNameLength = -1;
  private lastEntry: DispatchEntry | undefined;

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

  private entryFor(spec: CommandSpec): DispatchEntry {
    let entry = this.entries.get(spec);
    if (entry === undefined) {
      entry = {
        spec,
        noAuth: spec.flags.includes("no_auth"),
        denyOom: spec.flags.includes("denyoom"),
        counter: this.services.stats.counter(spec.name),
      };
      this.entries.set(spec, entry);
    }
    return entry;
  }

  /** The entry for `args`: the typed-name cache first (commands without subcommands). */
  private lookup(args: Buffer[]): DispatchEntry | Reply {
    const name = args[0]!;
    if (sameBytes(this.lastName, this.lastNameLength, name)) return this.lastEntry!;
    const typed = name.toString("latin1");
    const cached = this.byTypedName.get(typed);
    if (cached !== undefined) {
      this.remember(name, 0, name.length, cached);
      return cached;
    }
    const resolved = this.resolve(args);
    if (!("arity" in resolved)) return resolved;
    const entry = this.entryFor(resolved);
    // A command with subcommands resolves per call (the subcommand is the second argument).
    if (
      !resolved.name.includes("|") &&
      COMMANDS.get(resolved.name)?.subcommands === undefined &&
      this.byTypedName.size < MAX_CACHED_NAME_SPELLINGS
    ) {
      this.byTypedName.set(typed, entry);
      this.remember(name, 0, name.length, entry);
    }
    return entry;
  }

  /** Remembers the name source[start, end) (a command name as typed) and its entry. */
  private remember(source: Buffer, start: number, end: number, entry: DispatchEntry): void {
    if (end - start > LAST_NAME_BYTES) return;
    source.copy(this.lastName, 0, start, end);
    this.lastNameLength = end - start;
    this.lastEntry = entry;
  }

  execute(client: ClientState, args: Buffer[]): Reply | Promise<Reply> {
    const found = this.lookup(args);
    if (!("spec" in found)) return found;
    return this.run(client, found, args);
  }

  /** Runs a looked-up command on its arguments (`args[0]`, the name, is not read past lookup). */
  private run(client: ClientState, found: DispatchEntry, args: Buffer[]): Reply | Promise<Reply> {
    const spec = found.spec;
    const refused = this.preflight(client, found, args.length, (i) => args[i]!.length);
    if (refused !== undefined) return refused;
    const handler = spec.handler!;
    const scheduler = this.scheduler;
    try {
      let reply: Reply | Promise<Reply>;
      if (!scheduler.usesLocks || scheduler.idle) {
        // Nothing in flight to wait for (the common case): run now, no scope or closure made.
        // A command that then waits on the engine holds its keys from here until it settles.
        reply = handler(this.contextFor(client, spec), args);
        if (reply instanceof Promise && scheduler.usesLocks)
          reply = this.holdKeys(spec, args, reply);
      } else {
        const scope = lockScope(spec, args);
        const run = (): Reply | Promise<Reply> => handler(this.contextFor(client, spec), args);
        reply = scope.kind === "none" ? run() : scheduler.run(scope, run);
      }
      return this.settled(spec, reply);
    } catch (cause) {
      return this.internalError(spec, cause);
    }
  }

  /**
   * `execute` for a command the parser left as ranges of its buffer. A
   * command with a ranged handler (MSET) runs straight from the ranges when
   * its spelling is known (the last name looked up, or the typed-name cache)
   * and no key locks are held; anything else gets a view per argument and
   * takes `execute`.
   */
  executeRanged(client: ClientState, command: RangedCommand): Reply | Promise<Reply> {
    const { source, offsets } = command;
    const nameStart = offsets[0]!;
    const nameEnd = offsets[1]!;
    let entry: DispatchEntry | undefined;
    if (sameBytesRange(this.lastName, this.lastNameLength, source, nameStart, nameEnd)) {
      entry = this.lastEntry;
    } else {
      entry = this.byTypedName.get(source.toString("latin1", nameStart, nameEnd));
      if (entry !== undefined) this.remember(source, nameStart, nameEnd, entry);
    }
    if (entry === undefined) return this.execute(client, argsOf(command));
    const scheduler = this.scheduler;
    if (entry.spec.rangedHandler === undefined || (scheduler.usesLocks && !scheduler.idle)) {
      // Looked up already: views of the arguments but not of the name, which handlers never read.
      const args = argsOf(command, 1);
      args[0] = NAME_NOT_VIEWED;
      return this.run(client, entry, args);
    }
    const spec = entry.spec;
    const refused = this.preflight(
      client,
      entry,
      command.count,
      (i) => offsets[2 * i + 1]! - offsets[2 * i]!,
    );
    if (refused !== undefined) return refused;
    try {
      let reply = spec.rangedHandler!(this.contextFor(client, spec), command);
      // The ranges are still this command's here (nothing has run since).
      if (reply instanceof Promise && scheduler.usesLocks) {
        reply = this.holdKeys(spec, argsOf(command), reply);
      }
      return this.settled(spec, reply);
    } catch (cause) {
      return this.internalError(spec, cause);
    }
  }

  /**
   * Redis's checks before a command runs — arity, authentication, key sizes
   * (`argLength(i)` is argument i's length), memory for denyoom commands —
   * then the statistics; returns the refusal, or undefined to run it.
   */
  private preflight(
    client: ClientState,
    entry: DispatchEntry,
    argCount: number,
    argLength: (i: number) => number,
  ): Reply | undefined {
    const spec = entry.spec;
    const arity = spec.arity;
    if ((arity > 0 && argCount !== arity) || argCount < -arity) return wrongArity(spec.name);
    if (!client.authenticated && !entry.noAuth) return NOAUTH;
    if (spec.handler === undefined) return wrongArity(spec.name);
    if (spec.firstKey !== 0) {
      const maxKeyBytes = this.services.maxKeyBytes;
      const last = spec.lastKey < 0 ? argCount + spec.lastKey : spec.lastKey;
      for (let i = spec.firstKey; i <= last && i < argCount; i += spec.step) {
        if (argLength(i) > maxKeyBytes) return keyTooLong(maxKeyBytes);
      }
    }
    if (entry.denyOom && !this.store.admitWrite()) return OOM;
    client.lastCommand = spec.name;
    this.services.stats.totalCommandsProcessed++;
    entry.counter.calls++;
    return undefined;
  }

  /** A command that waits on the engine holds its keys from its start until it settles. */
  private holdKeys(spec: CommandSpec, args: Buffer[], reply: Promise<Reply>): Promise<Reply> {
    const scope = lockScope(spec, args);
    return scope.kind === "none" ? reply : this.scheduler.adopt(scope, reply);
  }

  /** An asynchronous reply with its failure turned into Redis's error reply. */
  private settled(spec: CommandSpec, reply: Reply | Promise<Reply>): Reply | Promise<Reply> {
    return reply instanceof Promise
      ? reply.catch((cause: unknown) => this.internalError(spec, cause))
      : reply;
  }

  private contextFor(client: ClientState, spec: CommandSpec): CommandContext {
    return { store: this.store, services: this.services, client, nowMs: Date.now(), spec };
  }

  /** Hands the store's buffered writes to the OS; servers call it before writing replies. */
  commitWrites(): void {
    this.store.commitWrites?.();
  }

  private internalError(spec: CommandSpec, cause: unknown): Reply {
    if (cause instanceof StoreLimitError) return error(`ERR ${cause.message}`);
    const message = cause instanceof Error ? cause.message : String(cause);
    this.logger.error({ err: cause, command: spec.name }, "command failed");
    return error(`ERR internal error in '${spec.name}': ${message.replace(/[\r\n]/g, " ")}`);
  }
}

function lockScope(spec: CommandSpec, args: Buffer[]): LockScope {
  if (spec.wholeKeyspace === true) return ALL_KEYS;
  if (spec.firstKey === 0) return NO_LOCK;
  return { kind: "keys", keys: keyPositions(spec, args.length).map((i) => toKey(args[i]!)) };
}
