/**
 * The Redis-protocol face of a cluster node: a CommandDispatcher that sends
 * the key commands through the coordinator (ClusterDriver) instead of the
 * local store, and leaves connection and server commands (PING, HELLO, AUTH,
 * CLIENT, INFO, COMMAND, CONFIG, ...) to the single-node dispatcher.
 *
 *   GET k                       newest sibling by HLC (or the counter), Redis semantics
 *   SET k v                     supersedes every version the coordinator sees
 *   DEL/UNLINK k..., EXISTS k...  per key; DEL counts keys that had a value
 *   INCR/INCRBY/DECR/DECRBY     PN-counter: increments on both sides of a partition count
 *   KV.GET k [N n] [R r] [TIMEOUT ms] [LOCAL]        → [context, [sibling values...]]
 *   KV.PUT k context v [N n] [W w] [TIMEOUT ms] [LOCAL] → the key's new context
 *                               (context "" = a blind write: concurrent → siblings)
 *   KV.DEL k context [N n] [W w] [TIMEOUT ms] [LOCAL]   → 1
 *   CLUSTER.STATUS              → JSON (members, ring, hints, anti-entropy, transfers)
 *   CLUSTER.LEAVE | CLUSTER.REMOVE id
 *   CLUSTER.FAULT DROP id... | CLUSTER.FAULT HEAL | CLUSTER.FAULT LIST   (chaos)
 *
 * Any other command with keys (MGET, APPEND, EXPIRE, SCAN, KEYS, ...) is
 * refused with an error naming the supported set: answering it from the local
 * store would silently bypass replication. Keys map to the core's string keys
 * as latin1 (one char per byte), so binary keys survive and ASCII keys are
 * unchanged; cluster-aware clients do the same (clusterKey).
 */
import type { Logger } from "pino";
import type { ClientReply, QuorumOptions } from "../cluster/index.js";
import { CommandDispatcher } from "../commands/dispatcher.js";
import { CommandScheduler } from "../commands/scheduler.js";
import type { NodeServices } from "../commands/services.js";
import type { ClientState } from "../commands/types.js";
import { argsOf, type RangedCommand } from "../resp/parser.js";
import { array, bulk, error, integer, NULL, OK, type Reply } from "../resp/reply.js";
import { toKey } from "../storage/memory.js";
import type { KeyValueStore } from "../storage/store.js";
import type { ClusterDriver } from "./driver.js";

/** The core's key for a Redis key: latin1, byte for byte. */
export function clusterKey(key: Uint8Array | string): string {
  return typeof key === "string"
    ? Buffer.from(key, "utf8").toString("latin1")
    : Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}

/**
 * A value the core will keep in memory: an exact-size copy. The RESP parser's
 * argument is a view into the socket chunk, and a small Buffer copy is a slice
 * of Node's shared pool; keeping either would pin the whole allocation for as
 * long as the replica holds the value. (Any Uint8Array, Buffers included,
 * travels in peer envelopes: codec.ts encodes the bytes.)
 */
export function retainedCopy(value: Uint8Array): Uint8Array {
  return new Uint8Array(value);
}

const SUPPORTED =
  "GET SET DEL UNLINK EXISTS INCR INCRBY DECR DECRBY KV.GET KV.PUT KV.DEL CLUSTER.STATUS CLUSTER.LEAVE CLUSTER.REMOVE CLUSTER.FAULT";

const NOT_INTEGER = error("ERR value is not an integer or out of range");
const SYNTAX = error("ERR syntax error");

function wrongArity(name: string): Reply {
  return error(`ERR wrong number of arguments for '${name}' command`);
}

/** A core error as a Redis error line: the stable code, then the message. */
export function clusterErrorReply(reply: Extract<ClientReply, { kind: "error" }>): Reply {
  return error(`${reply.code} ${reply.message}`.replace(/[\r\n]/g, " "));
}

function parseInteger(arg: Buffer): number | undefined {
  const text = arg.toString("latin1");
  if (!/^-?\d{1,19}$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Options after the fixed arguments: N n, W w, R r, TIMEOUT ms, LOCAL. */
function parseQuorum(args: Buffer[], from: number): QuorumOptions | Reply {
  const options: {
    n?: number;
    w?: number;
    r?: number;
    timeoutMs?: number;
    consistency?: "localQuorum";
  } = {};
  for (let i = from; i < args.length; i++) {
    const name = args[i]!.toString("latin1").toLowerCase();
    if (name === "local") {
      options.consistency = "localQuorum";
      continue;
    }
    const value = args[i + 1] === undefined ? undefined : parseInteger(args[i + 1]!);
    if (value === undefined || value < 1) return SYNTAX;
    if (name === "n") options.n = value;
    else if (name === "w") options.w = value;
    else if (name === "r") options.r = value;
    else if (name === "timeout") options.timeoutMs = value;
    else return SYNTAX;
    i++;
  }
  return options;
}

export class ClusterCommandDispatcher extends CommandDispatcher {
  constructor(
    store: KeyValueStore,
    services: NodeServices,
    logger: Logger,
    private readonly driver: ClusterDriver,
  ) {
    // Per-key locks: one connection's pipelined SET k then GET k stay ordered,
    // while commands on different keys coordinate concurrently.
    super(store, services, new CommandScheduler(), logger);
  }

  /** Every command goes through the cluster's `execute` (the node's ranged MSET is local-only). */
  override executeRanged(client: ClientState, command: RangedCommand): Reply | Promise<Reply> {
    return this.execute(client, argsOf(command));
  }

  override execute(client: ClientState, args: Buffer[]): Reply | Promise<Reply> {
    const name = args[0]!.toString("latin1").toLowerCase();
    const handler = this.handlers[name];
    if (handler === undefined) {
      const spec = this.resolve(args);
      if ("arity" in spec && (spec.firstKey > 0 || spec.wholeKeyspace === true)) {
        if (!client.authenticated) return super.execute(client, args);
        return error(
          `ERR '${spec.name}' is not supported in cluster mode (supported: ${SUPPORTED})`,
        );
      }
      return super.execute(client, args);
    }
    if (!client.authenticated) return error("NOAUTH Authentication required.");
    client.lastCommand = name;
    this.services.stats.countCall(name);
    const keys = handler.keyed ? args.slice(1, handler.keyed === "all" ? undefined : 2) : [];
    if (
      handler.minArgs > args.length ||
      (handler.maxArgs !== undefined && args.length > handler.maxArgs)
    ) {
      return wrongArity(name);
    }
    const run = () =>
      handler
        .run(args)
        .catch((cause: unknown) =>
          error(`ERR internal error in '${name}': ${String((cause as Error).message ?? cause)}`),
        );
    if (keys.length === 0) return run();
    return this.scheduler.run(
      { kind: "keys", keys: keys.map((key) => toKey(key)) },
      run,
    ) as Promise<Reply>;
  }

  private readonly handlers: Record<
    string,
    {
      minArgs: number;
      maxArgs?: number;
      keyed: false | "first" | "all";
      run: (args: Buffer[]) => Promise<Reply>;
    }
  > = {
    get: { minArgs: 2, maxArgs: 2, keyed: "first", run: (args) => this.get(args[1]!) },
    set: {
      minArgs: 3,
      keyed: "first",
      run: async (args) => {
        if (args.length > 3) {
          return error(
            "ERR SET options (EX, PX, NX, XX, GET, ...) are not supported in cluster mode",
          );
        }
        return this.write(
          {
            kind: "put",
            key: clusterKey(args[1]!),
            value: retainedCopy(args[2]!),
            context: null,
            supersedeVisible: true,
          },
          () => OK,
        );
      },
    },
    del: { minArgs: 2, keyed: "all", run: (args) => this.del(args.slice(1)) },
    unlink: { minArgs: 2, keyed: "all", run: (args) => this.del(args.slice(1)) },
    exists: { minArgs: 2, keyed: "all", run: (args) => this.exists(args.slice(1)) },
    incr: { minArgs: 2, maxArgs: 2, keyed: "first", run: (args) => this.incr(args[1]!, 1) },
    decr: { minArgs: 2, maxArgs: 2, keyed: "first", run: (args) => this.incr(args[1]!, -1) },
    incrby: {
      minArgs: 3,
      maxArgs: 3,
      keyed: "first",
      run: async (args) => {
        const delta = parseInteger(args[2]!);
        return delta === undefined ? NOT_INTEGER : this.incr(args[1]!, delta);
      },
    },
    decrby: {
      minArgs: 3,
      maxArgs: 3,
      keyed: "first",
      run: async (args) => {
        const delta = parseInteger(args[2]!);
        return delta === undefined ? NOT_INTEGER : this.incr(args[1]!, -delta);
      },
    },
    "kv.get": {
      minArgs: 2,
      keyed: "first",
      run: async (args) => {
        const options = parseQuorum(args, 2);
        if ("kind" in options) return options;
        const reply = await this.driver.request({
          kind: "get",
          key: clusterKey(args[1]!),
          ...options,
        });
        if (reply.kind === "error") return clusterErrorReply(reply);
        if (reply.kind !== "read") return error("ERR unexpected reply");
        const values = reply.siblings.map((sibling) => bulk(sibling.value));
        return array([bulk(reply.context), array(values)]);
      },
    },
    "kv.put": {
      minArgs: 4,
      keyed: "first",
      run: async (args) => {
        const options = parseQuorum(args, 4);
        if ("kind" in options) return options;
        const context = args[2]!.length === 0 ? null : args[2]!.toString("latin1");
        return this.write(
          {
            kind: "put",
            key: clusterKey(args[1]!),
            value: retainedCopy(args[3]!),
            context,
            supersedeVisible: false,
            ...options,
          },
          (reply) => bulk(reply.context),
        );
      },
    },
    "kv.del": {
      minArgs: 3,
      keyed: "first",
      run: async (args) => {
        const options = parseQuorum(args, 3);
        if ("kind" in options) return options;
        const context = args[2]!.length === 0 ? null : args[2]!.toString("latin1");
        return this.write(
          {
            kind: "delete",
            key: clusterKey(args[1]!),
            context,
            supersedeVisible: context === null,
            ...options,
          },
          () => integer(1),
        );
      },
    },
    "cluster.status": {
      minArgs: 1,
      maxArgs: 1,
      keyed: false,
      run: async () => bulk(JSON.stringify(this.driver.status())),
    },
    "cluster.leave": {
      minArgs: 1,
      maxArgs: 1,
      keyed: false,
      run: async () => {
        this.driver.leave();
        return OK;
      },
    },
    "cluster.remove": {
      minArgs: 2,
      maxArgs: 2,
      keyed: false,
      run: async (args) => {
        this.driver.removeMember(args[1]!.toString("utf8"));
        return OK;
      },
    },
    "cluster.fault": {
      minArgs: 2,
      keyed: false,
      run: async (args) => {
        const action = args[1]!.toString("latin1").toLowerCase();
        if (action === "list") {
          return array(this.driver.transport.droppedPeers().map((peer) => bulk(peer)));
        }
        if (action === "heal" && args.length === 2) {
          this.driver.setDropped([]);
          return OK;
        }
        if (action === "drop" && args.length > 2) {
          this.driver.setDropped(args.slice(2).map((arg) => arg.toString("utf8")));
          return OK;
        }
        return SYNTAX;
      },
    },
  };

  private async get(key: Buffer): Promise<Reply> {
    const reply = await this.driver.request({ kind: "get", key: clusterKey(key) });
    if (reply.kind === "error") return clusterErrorReply(reply);
    if (reply.kind !== "read") return error("ERR unexpected reply");
    if (reply.newest === null) {
      this.services.stats.keyspaceMisses++;
      return NULL;
    }
    this.services.stats.keyspaceHits++;
    return bulk(reply.newest);
  }

  private async write(
    request: Parameters<ClusterDriver["request"]>[0],
    onWritten: (reply: Extract<ClientReply, { kind: "written" }>) => Reply,
  ): Promise<Reply> {
    const reply = await this.driver.request(request);
    if (reply.kind === "error") return clusterErrorReply(reply);
    if (reply.kind !== "written") return error("ERR unexpected reply");
    return onWritten(reply);
  }

  private async incr(key: Buffer, delta: number): Promise<Reply> {
    return this.write({ kind: "incr", key: clusterKey(key), delta }, (reply) =>
      integer(reply.count ?? 0),
    );
  }

  private async exists(keys: Buffer[]): Promise<Reply> {
    let count = 0;
    for (const key of keys) {
      const reply = await this.driver.request({ kind: "get", key: clusterKey(key) });
      if (reply.kind === "error") return clusterErrorReply(reply);
      if (reply.kind === "read" && reply.newest !== null) count++;
    }
    return integer(count);
  }

  /** DEL reads first (Redis answers how many keys existed), then writes a tombstone. */
  private async del(keys: Buffer[]): Promise<Reply> {
    let count = 0;
    for (const key of keys) {
      const read = await this.driver.request({ kind: "get", key: clusterKey(key) });
      if (read.kind === "error") return clusterErrorReply(read);
      if (read.kind !== "read" || read.newest === null) continue;
      const written = await this.driver.request({
        kind: "delete",
        key: clusterKey(key),
        context: read.context,
        supersedeVisible: true,
      });
      if (written.kind === "error") return clusterErrorReply(written);
      count++;
    }
    return integer(count);
  }
}
