/**
 * A minimal pipelining RESP2 client (the CLI's status/leave/fault commands,
 * the chaos harness and the cluster-aware client use it; the package does not
 * depend on ioredis). Replies are matched to commands in order.
 */
import { type Socket, connect as tcpConnect } from "node:net";
import { ShellError, ShellErrorCode } from "./errors.js";

export type RespValue = string | number | Buffer | null | RespValue[];

/** An error reply (`-CODE message`). */
export class RespReplyError extends Error {
  constructor(readonly text: string) {
    super(text);
    this.name = "RespReplyError";
  }
}

type Parsed = { value: RespValue | RespReplyError; end: number } | null;

function parseValue(buffer: Buffer, at: number): Parsed {
  const lineEnd = buffer.indexOf("\r\n", at);
  if (lineEnd < 0) return null;
  const type = buffer[at];
  const line = buffer.toString("latin1", at + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case 0x2b: // +
      return { value: line, end: next };
    case 0x2d: // -
      return { value: new RespReplyError(line), end: next };
    case 0x3a: // :
      return { value: Number(line), end: next };
    case 0x24: {
      // $
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return null;
      return { value: Buffer.from(buffer.subarray(next, next + length)), end: next + length + 2 };
    }
    case 0x2a: {
      // *
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let position = next;
      for (let i = 0; i < count; i++) {
        const item = parseValue(buffer, position);
        if (item === null) return null;
        items.push(item.value instanceof RespReplyError ? item.value.text : item.value);
        position = item.end;
      }
      return { value: items, end: position };
    }
    default:
      throw new ShellError(ShellErrorCode.CLIENT, `unexpected RESP type byte ${String(type)}`);
  }
}

function encodeCommand(args: readonly (string | Uint8Array | number)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes =
      typeof arg === "string" || typeof arg === "number"
        ? Buffer.from(String(arg))
        : Buffer.from(arg);
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

export class RespClient {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiting: {
    resolve: (value: RespValue) => void;
    reject: (error: Error) => void;
  }[] = [];
  private failure: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => this.fail(error));
    socket.on("close", () => this.fail(new ShellError(ShellErrorCode.CLIENT, "connection closed")));
  }

  static connect(host: string, port: number, timeoutMs = 5_000): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ShellError(ShellErrorCode.CLIENT, `cannot connect to ${host}:${port}: timeout`));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(new RespClient(socket));
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(
          new ShellError(
            ShellErrorCode.CLIENT,
            `cannot connect to ${host}:${port}: ${error.message}`,
          ),
        );
      });
    });
  }

  get broken(): boolean {
    return this.failure !== null;
  }

  /** Send one command; resolves with its reply, rejects with RespReplyError on `-ERR`. */
  command(args: readonly (string | Uint8Array | number)[]): Promise<RespValue> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(encodeCommand(args));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let at = 0;
    for (;;) {
      let parsed: Parsed;
      try {
        parsed = parseValue(this.buffer, at);
      } catch (error) {
        this.fail(error as Error);
        this.socket.destroy();
        return;
      }
      if (parsed === null) break;
      at = parsed.end;
      const waiter = this.waiting.shift();
      if (waiter === undefined) continue;
      if (parsed.value instanceof RespReplyError) waiter.reject(parsed.value);
      else waiter.resolve(parsed.value);
    }
    this.buffer = at === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(at);
  }

  private fail(error: Error): void {
    if (this.failure === null) this.failure = error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
  }
}

/** One command on a fresh connection (CLI admin commands). */
export async function respCommand(
  hostPort: string,
  args: readonly (string | Uint8Array | number)[],
  timeoutMs = 5_000,
): Promise<RespValue> {
  const separator = hostPort.lastIndexOf(":");
  const host = hostPort.slice(0, separator).replace(/^\[|\]$/g, "");
  const port = Number(hostPort.slice(separator + 1));
  const client = await RespClient.connect(host, port, timeoutMs);
  try {
    return await client.command(args);
  } finally {
    client.close();
  }
}
