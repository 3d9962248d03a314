/**
 * The RESP listener: one `RespConnection` per socket. A connection parses
 * requests as they stream in, admits each command to the dispatcher in
 * order, and writes replies strictly in request order (pipelining) from a
 * reply queue, batching every reply that is ready into one socket write.
 *
 * Limits: maxclients (refused with Redis's error), the query buffer
 * (parser), the output buffer (a client that does not read is disconnected),
 * an idle timeout, and a cap on commands in flight per connection (reading
 * pauses until replies drain).
 */
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import type { Logger } from "pino";
import type { CommandDispatcher } from "../commands/dispatcher.js";
import { MAX_CLIENTS_REACHED, sanitize } from "../commands/replies.js";
import type { ClientState } from "../commands/types.js";
import { encodeReply, type ProtocolVersion } from "../resp/encoder.js";
import { argsOf, type ParseEvent, type RangedCommand, RespParser } from "../resp/parser.js";
import { error, type Reply } from "../resp/reply.js";
import { ReplyWriter } from "../resp/reply-writer.js";

/** Commands admitted but not yet answered on one connection before reading pauses. */
const MAX_IN_FLIGHT_PER_CONNECTION = 4096;

export interface RespServerSettings {
  maxClients: number;
  idleTimeoutSeconds: number;
  outputBufferLimitBytes: number;
  maxBulkBytes: number;
  queryBufferLimitBytes: number;
  requirePass: string | undefined;
}

interface Slot {
  reply: Reply | undefined;
  protocol: ProtocolVersion;
  closeAfter: boolean;
}

let nextClientId = 1;

export class RespConnection implements ClientState {
  readonly id = nextClientId++;
  name: string | undefined = undefined;
  libraryName: string | undefined = undefined;
  libraryVersion: string | undefined = undefined;
  protocol: ProtocolVersion = 2;
  authenticated: boolean;
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly createdAtMs = Date.now();
  lastInteractionMs = Date.now();
  lastCommand = "NULL";
  closeAfterReply = false;
  /** In the server's list of connections to flush this turn. */
  flushQueued = false;
  private readonly parser: RespParser;
  /**
   * Replies that wait for an asynchronous command ahead of them, in request
   * order. Empty in the common case: a command answered synchronously while
   * nothing is pending is encoded into `out` at once.
   */
  private readonly slots: Slot[] = [];
  private head = 0;
  /** Encoded replies not yet written, in order. */
  private readonly out = new ReplyWriter();
  /** A reply that closes the connection (QUIT, protocol error) is in `out`. */
  private endAfterWrite = false;
  private closing = false;
  private paused = false;
  private draining = false;
  /** Sequential mode (memory engine): commands parsed while one is running wait here. */
  private waiting: Buffer[][] = [];
  private waitingHead = 0;
  private running = false;
  /**
   * A protocol error parsed while earlier commands still wait their turn
   * (sequential mode): Redis answers every command before the bad bytes, then
   * the error, so the error is answered once the waiting queue has run.
   */
  private deferredProtocolError: Reply | undefined;
  private readonly onEvent = (event: ParseEvent): void => {
    if (this.closing || this.deferredProtocolError !== undefined) return;
    if (event.kind === "ranged") {
      // Ranges are valid only during this call: a command that must wait gets views.
      if (this.running) this.waiting.push(argsOf(event));
      else this.execute(event);
    } else if (event.kind === "command") {
      this.admit(event.args);
    } else if (event.kind === "protocolError") {
      this.server.logger.debug({ client: this.id, error: event.text }, "protocol error");
      const reply = error(`ERR ${sanitize(event.text)}`);
      if (this.running) {
        this.deferredProtocolError = reply;
        return;
      }
      this.answer(reply, this.protocol, true);
      this.closing = true;
    } else {
      this.server.logger.warn(
        { client: this.id, addr: this.remoteAddress },
        "closing client that reached max query buffer length",
      );
      this.kill();
    }
  };

  constructor(
    private readonly socket: Socket,
    private readonly server: RespServer,
  ) {
    const settings = server.settings;
    this.authenticated = settings.requirePass === undefined;
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    this.localAddress = `${socket.localAddress}:${socket.localPort}`;
    this.parser = new RespParser(
      {
        maxBulkBytes: settings.maxBulkBytes,
        queryBufferLimitBytes: settings.queryBufferLimitBytes,
      },
      () => this.authenticated,
      { ranges: true },
    );
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => server.forget(this));
  }

  queryBufferBytes(): number {
    return this.parser.bufferedBytes;
  }

  outputBufferBytes(): number {
    return this.socket.writableLength;
  }

  kill(): void {
    this.closing = true;
    this.socket.destroy();
  }

  /** Stops reading; pending replies are still written, then the socket ends (graceful shutdown). */
  drainAndClose(): void {
    this.draining = true;
    this.socket.pause();
    this.server.requestFlush(this);
  }

  private onData(chunk: Buffer): void {
    if (this.closing || this.deferredProtocolError !== undefined) return;
    this.lastInteractionMs = Date.now();
    this.server.stats.totalNetInputBytes += chunk.length;
    this.parser.feed(chunk, this.onEvent);
    if (!this.paused && this.inFlight() > MAX_IN_FLIGHT_PER_CONNECTION) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /** Commands admitted or waiting and not yet answered. */
  private inFlight(): number {
    return this.slots.length - this.head + this.waiting.length - this.waitingHead;
  }

  private admit(args: Buffer[]): void {
    if (this.running) {
      this.waiting.push(args);
      return;
    }
    this.execute(args);
  }

  private execute(command: Buffer[] | RangedCommand): void {
    const protocolBefore = this.protocol;
    const dispatcher = this.server.dispatcher;
    const result = Array.isArray(command)
      ? dispatcher.execute(this, command)
      : dispatcher.executeRanged(this, command);
    const closeAfter = this.closeAfterReply;
    this.closeAfterReply = false;
    if (result instanceof Promise) {
      const slot: Slot = { reply: undefined, protocol: protocolBefore, closeAfter };
      this.slots.push(slot);
      const sequential = this.server.dispatcher.scheduler.sequentialClients;
      if (sequential) this.running = true;
      void result.then((reply) => {
        slot.reply = reply;
        this.server.requestFlush(this);
        if (sequential) {
          this.running = false;
          while (!this.running && this.waitingHead < this.waiting.length && !this.closing) {
            this.execute(this.waiting[this.waitingHead++]!);
          }
          if (this.waitingHead === this.waiting.length) {
            this.waiting = [];
            this.waitingHead = 0;
            const deferred = this.deferredProtocolError;
            if (!this.running && deferred !== undefined && !this.closing) {
              this.deferredProtocolError = undefined;
              this.answer(deferred, this.protocol, true);
              this.closing = true;
            }
          }
        }
      });
    } else {
      this.answer(result, this.protocol, closeAfter);
    }
    if (closeAfter) this.closing = true;
  }

  /** A reply that is ready: encoded now unless replies before it are still pending. */
  private answer(reply: Reply, protocol: ProtocolVersion, closeAfter: boolean): void {
    if (this.head < this.slots.length) {
      this.slots.push({ reply, protocol, closeAfter });
    } else {
      this.encode(reply, protocol, closeAfter);
    }
    this.server.requestFlush(this);
  }

  private encode(reply: Reply, protocol: ProtocolVersion, closeAfter: boolean): void {
    if (this.endAfterWrite) return;
    if (reply.kind === "error") this.server.stats.totalErrorReplies++;
    encodeReply(reply, protocol, this.out);
    if (closeAfter) this.endAfterWrite = true;
  }

  /** Writes every reply that is ready (the server calls it once per event-loop turn). */
  flush(): void {
    while (this.head < this.slots.length && !this.endAfterWrite) {
      const slot = this.slots[this.head]!;
      if (slot.reply === undefined) break;
      this.encode(slot.reply, slot.protocol, slot.closeAfter);
      this.head++;
    }
    if (this.head === this.slots.length) {
      this.slots.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.slots.splice(0, this.head);
      this.head = 0;
    }
    const data = this.out.take();
    if (data !== undefined) {
      if (this.socket.destroyed) return;
      this.server.stats.totalNetOutputBytes += data.length;
      if (this.socket.writableLength + data.length > this.server.settings.outputBufferLimitBytes) {
        this.server.logger.warn(
          {
            client: this.id,
            addr: this.remoteAddress,
            pendingBytes: this.socket.writableLength + data.length,
          },
          "closing client that reached the output buffer limit",
        );
        this.kill();
        return;
      }
      this.socket.write(data);
    }
    if (this.endAfterWrite) {
      this.closing = true;
      this.socket.end();
      return;
    }
    if (this.paused && this.inFlight() < MAX_IN_FLIGHT_PER_CONNECTION / 2) {
      this.paused = false;
      if (!this.draining) this.socket.resume();
    }
    if (this.draining && this.head === this.slots.length) this.socket.end();
  }
}

export interface RespServerStats {
  totalConnectionsReceived: number;
  rejectedConnections: number;
  totalNetInputBytes: number;
  totalNetOutputBytes: number;
  totalErrorReplies: number;
}

export class RespServer {
  private readonly server: Server;
  private readonly connections = new Set<RespConnection>();
  private flushList: RespConnection[] = [];
  private flushScheduled = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly dispatcher: CommandDispatcher,
    readonly settings: RespServerSettings,
    readonly stats: RespServerStats,
    readonly logger: Logger,
  ) {
    this.server = createServer((socket) => this.accept(socket));
  }

  get clients(): readonly RespConnection[] {
    return [...this.connections];
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (cause: Error): void => reject(cause);
      this.server.once("error", onError);
      this.server.listen({ port, host, backlog: 511 }, () => {
        this.server.off("error", onError);
        // After start, listener errors are logged; before, they fail listen().
        this.server.on("error", (cause) =>
          this.logger.error({ err: cause }, "RESP listener error"),
        );
        resolve((this.server.address() as AddressInfo).port);
      });
      this.idleTimer = setInterval(() => this.closeIdleClients(), 1000);
      this.idleTimer.unref();
    });
  }

  /**
   * Queues `connection` for the end-of-turn flush. One setImmediate per
   * event-loop turn writes every connection's ready replies, after the
   * store's buffered writes were handed to the OS (Redis's beforeSleep:
   * flush the AOF buffer, then write to clients) — so a reply never
   * acknowledges a write that is not yet in the commit log file, and each
   * connection costs one socket write per turn, however many commands it sent.
   */
  requestFlush(connection: RespConnection): void {
    if (connection.flushQueued) return;
    connection.flushQueued = true;
    this.flushList.push(connection);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushAll);
    }
  }

  private readonly flushAll = (): void => {
    this.flushScheduled = false;
    const list = this.flushList;
    this.flushList = [];
    try {
      this.dispatcher.commitWrites();
    } catch (cause) {
      // The writes these replies acknowledge did not reach the log: drop the clients, never ack.
      this.logger.error(
        { err: cause },
        "commit log write failed; closing clients with pending replies",
      );
      for (const connection of list) {
        connection.flushQueued = false;
        connection.kill();
      }
      return;
    }
    for (const connection of list) {
      connection.flushQueued = false;
      connection.flush();
    }
  };

  forget(connection: RespConnection): void {
    this.connections.delete(connection);
  }

  /** Stops accepting; lets each connection write its pending replies, then closes it. */
  async close(): Promise<void> {
    if (this.idleTimer !== undefined) clearInterval(this.idleTimer);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) connection.drainAndClose();
    await closed;
  }

  /** Forcibly closes every connection (after the drain timeout). */
  destroyAll(): void {
    for (const connection of this.connections) connection.kill();
  }

  private accept(socket: Socket): void {
    this.stats.totalConnectionsReceived++;
    if (this.connections.size >= this.settings.maxClients) {
      this.stats.rejectedConnections++;
      socket.on("error", () => socket.destroy());
      socket.end(`-${MAX_CLIENTS_REACHED}\r\n`);
      return;
    }
    this.connections.add(new RespConnection(socket, this));
  }

  private closeIdleClients(): void {
    const timeoutSeconds = this.settings.idleTimeoutSeconds;
    if (timeoutSeconds <= 0) return;
    const now = Date.now();
    for (const connection of this.connections) {
      if (now - connection.lastInteractionMs > timeoutSeconds * 1000) {
        this.logger.debug({ client: connection.id }, "closing idle client");
        connection.kill();
      }
    }
  }
}
