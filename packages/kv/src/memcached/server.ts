/**
 * memcached text protocol (proto_text.c of memcached 1.6): get, gets, gat,
 * gats, set, add, replace, append, prepend, cas, delete, incr, decr, touch,
 * flush_all, stats, version, verbosity, mn, quit — with memcached's token-count
 * checks, error texts and noreply. It shares the store and the scheduler's
 * key locks with the RESP side, so both protocols see the same keys
 * atomically.
 *
 * Exptime: 0 never; up to 30 days relative seconds; above that a Unix time;
 * negative means already expired (memcached stores it and never returns it).
 */
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import type { Logger } from "pino";
import type { CommandScheduler } from "../commands/scheduler.js";
import type { ServerStats } from "../commands/services.js";
import {
  MEMCACHED_MAX_ITEM_BYTES,
  MEMCACHED_MAX_KEY_BYTES,
  MEMCACHED_MAX_LINE_BYTES,
  MEMCACHED_REALTIME_MAX_DELTA_SECONDS,
} from "../limits.js";
import { toKey } from "../storage/memory.js";
import type { KeyValueStore, StoredEntry } from "../storage/store.js";
import { parseFlags, parseSigned32, parseUnsigned64, UINT64_MAX } from "./numbers.js";

/** Version reported by `version` and `stats`. */
export const MEMCACHED_VERSION = "1.6.18";
/** A multiget line may run longer than an ordinary command line, up to this. */
const MAX_MULTIGET_LINE_BYTES = 64 * 1024;
const CRLF = "\r\n";

export interface MemcachedStats {
  getHits: number;
  getMisses: number;
  cmdGet: number;
  cmdSet: number;
  cmdTouch: number;
  currConnections: number;
  totalConnections: number;
}

type Output = string | Buffer;

interface PendingData {
  command: string;
  tokens: Buffer[];
  noreply: boolean;
  key: Buffer;
  flags: number;
  expiresAtMs: number;
  length: number;
  cas: bigint | undefined;
  /** Too large: read and drop the bytes. */
  swallow: boolean;
  /** Bytes to read: the value and its CRLF. */
  total: number;
  /** Where the bytes go (undefined while swallowing). */
  buffer: Buffer | undefined;
  filled: number;
}

/** memcached realtime(): exptime seconds → absolute ms (0 = never, 1 = already expired). */
export function expiryFromExptime(exptime: number, nowMs: number): number {
  if (exptime === 0) return 0;
  if (exptime < 0) return 1;
  if (exptime > MEMCACHED_REALTIME_MAX_DELTA_SECONDS) {
    const at = exptime * 1000;
    return at <= nowMs ? 1 : at;
  }
  return nowMs + exptime * 1000;
}

export class MemcachedConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private pending: PendingData | undefined;
  private readonly outputs: (Output[] | undefined)[] = [];
  private head = 0;
  private closing = false;
  private flushScheduled = false;
  lastInteractionMs = Date.now();

  constructor(
    private readonly socket: Socket,
    private readonly server: MemcachedServer,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => server.forget(this));
  }

  kill(): void {
    this.closing = true;
    this.socket.destroy();
  }

  drainAndClose(): void {
    this.closing = true;
    this.socket.pause();
    if (this.head === this.outputs.length) this.socket.end();
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.lastInteractionMs = Date.now();
    let input = chunk;
    if (this.pending !== undefined) {
      input = this.fillPending(input);
      if (this.pending !== undefined) return;
    }
    this.buffer = this.buffer.length === 0 ? input : Buffer.concat([this.buffer, input]);
    let position = 0;
    while (!this.closing && position < this.buffer.length) {
      const newline = this.buffer.indexOf(10, position);
      if (newline === -1) {
        const rest = this.buffer.length - position;
        if (rest > MEMCACHED_MAX_LINE_BYTES) {
          const start = this.buffer.subarray(position, position + 5).toString("latin1");
          if (
            (!start.startsWith("get ") && !start.startsWith("gets ")) ||
            rest > MAX_MULTIGET_LINE_BYTES
          ) {
            // memcached closes a connection that sends a long line that is not a multiget.
            this.kill();
            return;
          }
        }
        break;
      }
      let end = newline;
      if (end > position && this.buffer[end - 1] === 13) end--;
      const line = this.buffer.subarray(position, end);
      position = newline + 1;
      this.processLine(line);
      if (this.pending !== undefined) {
        const rest = this.fillPending(this.buffer.subarray(position));
        this.buffer = Buffer.alloc(0);
        if (this.pending !== undefined) return;
        this.buffer = rest;
        position = 0;
      }
    }
    this.buffer = position >= this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(position);
  }

  /** Copies bytes into the pending data block; returns what is left of `input`. */
  private fillPending(input: Buffer): Buffer {
    const pending = this.pending!;
    const take = Math.min(pending.total - pending.filled, input.length);
    if (pending.buffer !== undefined) input.copy(pending.buffer, pending.filled, 0, take);
    pending.filled += take;
    if (pending.filled === pending.total) {
      this.pending = undefined;
      this.completeData(pending);
    }
    return input.subarray(take);
  }

  private reply(noreply: boolean, text: string): void {
    if (noreply) return;
    this.push([text + CRLF]);
  }

  private push(output: Output[]): void {
    this.outputs.push(output);
    this.scheduleFlush();
  }

  /** Runs `task` under the keys' locks; its output keeps its place in the reply order. */
  private runLocked(keys: Buffer[], task: () => Promise<Output[]>): void {
    const index = this.outputs.length;
    this.outputs.push(undefined);
    const scope = { kind: "keys", keys: keys.map((key) => toKey(key)) } as const;
    Promise.resolve(this.server.scheduler.run(scope, task))
      .catch((cause: unknown) => {
        this.server.logger.error({ err: cause }, "memcached command failed");
        return [`SERVER_ERROR ${cause instanceof Error ? cause.message : String(cause)}${CRLF}`];
      })
      .then((output) => {
        this.outputs[index] = output;
        this.scheduleFlush();
      });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const chunks: Buffer[] = [];
    while (this.head < this.outputs.length) {
      const output = this.outputs[this.head];
      if (output === undefined) break;
      for (const piece of output)
        chunks.push(typeof piece === "string" ? Buffer.from(piece, "latin1") : piece);
      this.head++;
    }
    if (this.head === this.outputs.length) {
      this.outputs.length = 0;
      this.head = 0;
    }
    if (chunks.length > 0 && !this.socket.destroyed) {
      try {
        // Buffered writes reach the OS before any reply that acknowledges them.
        this.server.store.commitWrites?.();
      } catch (cause) {
        this.server.logger.error({ err: cause }, "commit log write failed; closing client");
        this.kill();
        return;
      }
      const data = Buffer.concat(chunks);
      if (this.socket.writableLength + data.length > this.server.outputBufferLimitBytes) {
        this.kill();
        return;
      }
      this.socket.write(data);
    }
    if (this.closing && this.head === this.outputs.length && !this.socket.destroyed)
      this.socket.end();
  }

  private processLine(line: Buffer): void {
    const tokens = tokenize(line);
    const ntokens = tokens.length + 1; // memcached counts a terminal empty token
    const command = tokens[0]?.toString("latin1") ?? "";
    const stats = this.server.mcStats;
    const noreplyOf = (): boolean =>
      tokens.length > 1 && tokens[tokens.length - 1]!.toString("latin1") === "noreply";
    switch (command) {
      case "get":
      case "gets":
        if (ntokens < 3) {
          this.reply(false, "ERROR");
          return;
        }
        this.retrieve(tokens.slice(1), command === "gets", undefined);
        return;
      case "gat":
      case "gats": {
        if (ntokens < 4) {
          this.reply(false, "ERROR");
          return;
        }
        const exptime = parseSigned32(tokens[1]!.toString("latin1"));
        if (exptime === undefined) {
          this.reply(false, "CLIENT_ERROR invalid exptime argument");
          return;
        }
        this.retrieve(tokens.slice(2), command === "gats", exptime);
        return;
      }
      case "set":
      case "add":
      case "replace":
      case "append":
      case "prepend":
        if (ntokens !== 6 && ntokens !== 7) {
          this.reply(false, "ERROR");
          return;
        }
        this.startUpdate(command, tokens, noreplyOf(), false);
        return;
      case "cas":
        if (ntokens !== 7 && ntokens !== 8) {
          this.reply(false, "ERROR");
          return;
        }
        this.startUpdate(command, tokens, noreplyOf(), true);
        return;
      case "delete":
        if (ntokens < 3 || ntokens > 5) {
          this.reply(false, "ERROR");
          return;
        }
        this.deleteCommand(tokens, ntokens, noreplyOf());
        return;
      case "incr":
      case "decr":
        if (ntokens !== 4 && ntokens !== 5) {
          this.reply(false, "ERROR");
          return;
        }
        this.arithmetic(tokens, command === "incr", noreplyOf());
        return;
      case "touch":
        if (ntokens !== 4 && ntokens !== 5) {
          this.reply(false, "ERROR");
          return;
        }
        this.touch(tokens, noreplyOf());
        return;
      case "flush_all":
        if (ntokens < 2 || ntokens > 4) {
          this.reply(false, "ERROR");
          return;
        }
        this.flushAll(tokens, noreplyOf());
        return;
      case "version":
        this.reply(false, `VERSION ${MEMCACHED_VERSION}`);
        return;
      case "verbosity":
        if (ntokens !== 3 && ntokens !== 4) {
          this.reply(false, "ERROR");
          return;
        }
        this.reply(noreplyOf(), "OK");
        return;
      case "stats":
        if (ntokens !== 2) {
          this.reply(false, "ERROR");
          return;
        }
        this.statsCommand();
        return;
      case "mn":
        // Meta no-op: clients use it to mark the end of a pipeline of quiet commands.
        this.reply(false, "MN");
        return;
      case "quit":
        this.closing = true;
        this.scheduleFlush();
        return;
      default:
        void stats;
        this.reply(false, "ERROR");
        return;
    }
  }

  private retrieve(keys: Buffer[], withCas: boolean, exptime: number | undefined): void {
    for (const key of keys) {
      if (key.length > MEMCACHED_MAX_KEY_BYTES) {
        this.reply(false, "CLIENT_ERROR bad command line format");
        return;
      }
    }
    const { store, mcStats } = this.server;
    this.runLocked(keys, async () => {
      const out: Output[] = [];
      const nowMs = Date.now();
      for (const key of keys) {
        mcStats.cmdGet++;
        if (exptime !== undefined) mcStats.cmdTouch++;
        let entry = await store.get(key);
        if (entry === undefined) {
          mcStats.getMisses++;
          continue;
        }
        mcStats.getHits++;
        if (exptime !== undefined) {
          const expiresAtMs = expiryFromExptime(exptime, nowMs);
          entry = await store.put(key, entry.value, {
            expiresAtMs,
            flags: entry.flags,
            cas: entry.cas,
          });
        }
        out.push(valueLine(key, entry, withCas), Buffer.from(entry.value), CRLF);
      }
      out.push(`END${CRLF}`);
      return out;
    });
  }

  private startUpdate(
    command: string,
    tokens: Buffer[],
    noreply: boolean,
    handleCas: boolean,
  ): void {
    const key = tokens[1]!;
    if (key.length > MEMCACHED_MAX_KEY_BYTES) {
      this.reply(noreply, "CLIENT_ERROR bad command line format");
      return;
    }
    const flags = parseFlags(tokens[2]!.toString("latin1"));
    const exptime = parseSigned32(tokens[3]!.toString("latin1"));
    const length = parseSigned32(tokens[4]!.toString("latin1"));
    if (flags === undefined || exptime === undefined || length === undefined) {
      this.reply(noreply, "CLIENT_ERROR bad command line format");
      return;
    }
    let cas: bigint | undefined;
    if (handleCas) {
      cas = parseUnsigned64(tokens[5]!.toString("latin1"));
      if (cas === undefined) {
        this.reply(noreply, "CLIENT_ERROR bad command line format");
        return;
      }
    }
    if (length < 0 || length > 2147483647 - 2) {
      this.reply(noreply, "CLIENT_ERROR bad command line format");
      return;
    }
    const swallow = length > MEMCACHED_MAX_ITEM_BYTES;
    this.pending = {
      command,
      tokens,
      noreply,
      key: Buffer.from(key),
      flags,
      expiresAtMs: expiryFromExptime(exptime, Date.now()),
      length,
      cas,
      swallow,
      total: length + 2,
      // A too-large block is read and dropped; like memcached, a failed SET also drops the old value.
      buffer: swallow ? undefined : Buffer.allocUnsafe(length + 2),
      filled: 0,
    };
  }

  private completeData(pending: PendingData): void {
    const { store, mcStats } = this.server;
    const { command, key, noreply } = pending;
    if (pending.swallow) {
      this.reply(noreply, "SERVER_ERROR object too large for cache");
      if (command === "set") {
        this.runLocked([key], async () => {
          await store.delete(key);
          return [];
        });
      }
      return;
    }
    const data = pending.buffer!;
    if (data[pending.length] !== 13 || data[pending.length + 1] !== 10) {
      this.reply(noreply, "CLIENT_ERROR bad data chunk");
      return;
    }
    const value = data.subarray(0, pending.length);
    mcStats.cmdSet++;
    this.runLocked([key], async () => {
      const existing = await store.get(key);
      let result: string;
      switch (command) {
        case "set":
          await store.put(key, value, { expiresAtMs: pending.expiresAtMs, flags: pending.flags });
          result = "STORED";
          break;
        case "add":
          if (existing !== undefined) {
            result = "NOT_STORED";
          } else {
            await store.put(key, value, { expiresAtMs: pending.expiresAtMs, flags: pending.flags });
            result = "STORED";
          }
          break;
        case "replace":
          if (existing === undefined) {
            result = "NOT_STORED";
          } else {
            await store.put(key, value, { expiresAtMs: pending.expiresAtMs, flags: pending.flags });
            result = "STORED";
          }
          break;
        case "append":
        case "prepend":
          if (existing === undefined) {
            result = "NOT_STORED";
          } else {
            const combined =
              command === "append"
                ? Buffer.concat([existing.value, value])
                : Buffer.concat([value, existing.value]);
            await store.put(key, combined, {
              expiresAtMs: existing.expiresAtMs,
              flags: existing.flags,
            });
            result = "STORED";
          }
          break;
        default: // cas
          if (existing === undefined) {
            result = "NOT_FOUND";
          } else if (BigInt(existing.cas) !== pending.cas) {
            result = "EXISTS";
          } else {
            await store.put(key, value, { expiresAtMs: pending.expiresAtMs, flags: pending.flags });
            result = "STORED";
          }
      }
      return noreply ? [] : [result + CRLF];
    });
  }

  private deleteCommand(tokens: Buffer[], ntokens: number, noreply: boolean): void {
    if (ntokens > 3) {
      const holdIsZero = tokens[2]!.toString("latin1") === "0";
      const valid =
        (ntokens === 4 && (holdIsZero || noreply)) || (ntokens === 5 && holdIsZero && noreply);
      if (!valid) {
        this.reply(noreply, "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]");
        return;
      }
    }
    const key = tokens[1]!;
    if (key.length > MEMCACHED_MAX_KEY_BYTES) {
      this.reply(noreply, "CLIENT_ERROR bad command line format");
      return;
    }
    const store = this.server.store;
    this.runLocked([key], async () => {
      const removed = await store.delete(key);
      return noreply ? [] : [removed ? `DELETED${CRLF}` : `NOT_FOUND${CRLF}`];
    });
  }

  private arithmetic(tokens: Buffer[], increment: boolean, noreply: boolean): void {
    const key = tokens[1]!;
    if (key.length > MEMCACHED_MAX_KEY_BYTES) {
      this.reply(noreply, "CLIENT_ERROR bad command line format");
      return;
    }
    const delta = parseUnsigned64(tokens[2]!.toString("latin1"));
    if (delta === undefined || /\s$/.test(tokens[2]!.toString("latin1"))) {
      this.reply(noreply, "CLIENT_ERROR invalid numeric delta argument");
      return;
    }
    const store = this.server.store;
    this.runLocked([key], async () => {
      const existing = await store.get(key);
      if (existing === undefined) return noreply ? [] : [`NOT_FOUND${CRLF}`];
      const current = parseUnsigned64(Buffer.from(existing.value).toString("latin1"));
      if (current === undefined || existing.value.length === 0) {
        return noreply
          ? []
          : [`CLIENT_ERROR cannot increment or decrement non-numeric value${CRLF}`];
      }
      let next: bigint;
      if (increment) next = (current + delta) & UINT64_MAX;
      else next = delta > current ? 0n : current - delta;
      let text = next.toString();
      // memcached rewrites a shorter result in place, padding with spaces to the old length.
      if (text.length < existing.value.length) text = text.padEnd(existing.value.length, " ");
      await store.put(key, Buffer.from(text, "latin1"), {
        expiresAtMs: existing.expiresAtMs,
        flags: existing.flags,
      });
      return noreply ? [] : [next.toString() + CRLF];
    });
  }

  private touch(tokens: Buffer[], noreply: boolean): void {
    const key = tokens[1]!;
    if (key.length > MEMCACHED_MAX_KEY_BYTES) {
      this.reply(noreply, "CLIENT_ERROR bad command line format");
      return;
    }
    const exptime = parseSigned32(tokens[2]!.toString("latin1"));
    if (exptime === undefined) {
      this.reply(noreply, "CLIENT_ERROR invalid exptime argument");
      return;
    }
    const { store, mcStats } = this.server;
    this.runLocked([key], async () => {
      mcStats.cmdTouch++;
      const existing = await store.get(key);
      if (existing === undefined) return noreply ? [] : [`NOT_FOUND${CRLF}`];
      const expiresAtMs = expiryFromExptime(exptime, Date.now());
      await store.put(key, existing.value, {
        expiresAtMs,
        flags: existing.flags,
        cas: existing.cas,
      });
      return noreply ? [] : [`TOUCHED${CRLF}`];
    });
  }

  private flushAll(tokens: Buffer[], noreply: boolean): void {
    let delaySeconds = 0;
    const hasDelay = tokens.length > 1 && !(tokens.length === 2 && noreply);
    if (hasDelay) {
      const parsed = parseSigned32(tokens[1]!.toString("latin1"));
      if (parsed === undefined) {
        this.reply(noreply, "CLIENT_ERROR bad command line format");
        return;
      }
      delaySeconds = parsed;
    }
    const { store, scheduler } = this.server;
    const clear = (): Promise<void> =>
      Promise.resolve(scheduler.run({ kind: "all" }, () => store.clear()));
    if (delaySeconds > 0) {
      // Approximation of memcached's "invalidate items older than T": clear at T.
      setTimeout(() => void clear(), delaySeconds * 1000).unref();
      this.reply(noreply, "OK");
      return;
    }
    const index = this.outputs.length;
    this.outputs.push(undefined);
    void clear().then(() => {
      this.outputs[index] = noreply ? [] : [`OK${CRLF}`];
      this.scheduleFlush();
    });
  }

  private statsCommand(): void {
    const { store, mcStats, startedAtMs } = this.server;
    const storeStats = store.stats();
    const nowMs = Date.now();
    const lines: [string, string | number][] = [
      ["pid", process.pid],
      ["uptime", Math.floor((nowMs - startedAtMs) / 1000)],
      ["time", Math.floor(nowMs / 1000)],
      ["version", MEMCACHED_VERSION],
      ["curr_connections", mcStats.currConnections],
      ["total_connections", mcStats.totalConnections],
      ["cmd_get", mcStats.cmdGet],
      ["cmd_set", mcStats.cmdSet],
      ["cmd_touch", mcStats.cmdTouch],
      ["get_hits", mcStats.getHits],
      ["get_misses", mcStats.getMisses],
      ["curr_items", storeStats.keys ?? 0],
      ["bytes", storeStats.usedMemoryBytes ?? 0],
      ["limit_maxbytes", storeStats.maxMemoryBytes],
      ["evictions", storeStats.evictedKeys],
      ["expired_unfetched", storeStats.expiredKeys],
    ];
    this.push([
      `${lines.map(([name, value]) => `STAT ${name} ${value}${CRLF}`).join("")}END${CRLF}`,
    ]);
  }
}

function valueLine(key: Buffer, entry: StoredEntry, withCas: boolean): Output {
  const header = `VALUE ${key.toString("latin1")} ${entry.flags} ${entry.value.length}${withCas ? ` ${entry.cas}` : ""}${CRLF}`;
  return Buffer.from(header, "latin1");
}

/** memcached tokenize_command: split on single spaces, empty tokens skipped. */
export function tokenize(line: Buffer): Buffer[] {
  const tokens: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= line.length; i++) {
    if (i === line.length || line[i] === 0x20) {
      if (i > start) tokens.push(line.subarray(start, i));
      start = i + 1;
    }
  }
  return tokens;
}

export class MemcachedServer {
  private readonly server: Server;
  private readonly connections = new Set<MemcachedConnection>();
  readonly mcStats: MemcachedStats = {
    getHits: 0,
    getMisses: 0,
    cmdGet: 0,
    cmdSet: 0,
    cmdTouch: 0,
    currConnections: 0,
    totalConnections: 0,
  };
  readonly startedAtMs = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly store: KeyValueStore,
    readonly scheduler: CommandScheduler,
    readonly logger: Logger,
    readonly outputBufferLimitBytes: number,
    private readonly maxClients: number,
    private readonly serverStats: ServerStats,
    /** Read at each check, so CONFIG SET timeout applies here too; 0 = never. */
    private readonly idleTimeoutSeconds: () => number = () => 0,
  ) {
    this.server = createServer((socket) => this.accept(socket));
  }

  private closeIdleClients(): void {
    const timeoutSeconds = this.idleTimeoutSeconds();
    if (timeoutSeconds <= 0) return;
    const now = Date.now();
    for (const connection of this.connections) {
      if (now - connection.lastInteractionMs > timeoutSeconds * 1000) connection.kill();
    }
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (cause: Error): void => reject(cause);
      this.server.once("error", onError);
      this.server.listen({ port, host }, () => {
        this.server.off("error", onError);
        // After start, listener errors are logged; before, they fail listen().
        this.server.on("error", (cause) =>
          this.logger.error({ err: cause }, "memcached listener error"),
        );
        resolve((this.server.address() as AddressInfo).port);
      });
      this.idleTimer = setInterval(() => this.closeIdleClients(), 1000);
      this.idleTimer.unref();
    });
  }

  forget(connection: MemcachedConnection): void {
    if (this.connections.delete(connection)) this.mcStats.currConnections--;
  }

  async close(): Promise<void> {
    if (this.idleTimer !== undefined) clearInterval(this.idleTimer);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) connection.drainAndClose();
    await closed;
  }

  destroyAll(): void {
    for (const connection of this.connections) connection.kill();
  }

  private accept(socket: Socket): void {
    this.mcStats.totalConnections++;
    if (this.connections.size >= this.maxClients) {
      this.serverStats.rejectedConnections++;
      socket.on("error", () => socket.destroy());
      socket.end(`SERVER_ERROR Too many open connections${CRLF}`);
      return;
    }
    this.mcStats.currConnections++;
    this.connections.add(new MemcachedConnection(socket, this));
  }
}
