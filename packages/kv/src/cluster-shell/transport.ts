/**
 * TCP transport between cluster nodes.
 *
 * Each node dials one connection per peer and only WRITES envelopes on it; it
 * READS envelopes on the connections peers dialed to it. So a pair of nodes
 * uses two connections, one per direction, and neither side has to arbitrate.
 * The first frame in each direction of a connection is a hello (length-prefixed
 * JSON: protocol version and the member's id, data center, rack, address); the
 * rest are codec.ts envelope frames. A dialer also reads the acceptor's hello
 * (that is how a starting node learns who its --join seeds are).
 *
 * Outgoing links reconnect with exponential backoff and keep a bounded queue
 * while down or backed up (PEER_QUEUE_MAX_BYTES); beyond it frames are dropped
 * and counted: the core's protocols tolerate loss (quorum deadlines, hint
 * replay, anti-entropy), and a SIGSTOPped peer must not exhaust our heap.
 *
 * The fault layer (chaos): `setDropped(ids)` makes this node drop every frame
 * to and from those peers, at once and until changed, as a network partition
 * would. The chaos harness sets it on both sides through the admin command.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import type { Envelope, NodeId } from "../cluster/index.js";
import { ClusterError, decodeFrames, encodeEnvelope } from "../cluster/index.js";
import { parseHostPort, parseMemberAddress } from "./address.js";
import {
  HELLO_MAX_BYTES,
  HELLO_TIMEOUT_MS,
  PEER_CONNECTIONS_MAX,
  PEER_PROTOCOL,
  PEER_QUEUE_MAX_BYTES,
  PEER_SOCKET_HIGH_WATER_BYTES,
  RECONNECT_BACKOFF_MAX_MS,
  RECONNECT_BACKOFF_MIN_MS,
} from "./constants.js";

export interface HelloMember {
  readonly id: NodeId;
  readonly address: string;
  readonly dc: string;
  readonly rack: string;
  readonly weight: number;
}

interface Hello {
  readonly protocol: string;
  readonly member: HelloMember;
}

export interface TransportLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface TransportCounters {
  framesSent: number;
  framesReceived: number;
  /** Dropped by the fault layer (to or from a partitioned peer). */
  framesDroppedByFault: number;
  /** Dropped because a peer's queue was full. */
  framesDroppedQueueFull: number;
  /** Connections closed for a malformed or oversized frame. */
  badFrames: number;
  connects: number;
  connectFailures: number;
}

interface Link {
  address: string;
  socket: Socket | null;
  connected: boolean;
  queue: Uint8Array[];
  queuedBytes: number;
  backoffMs: number;
  retryTimer: NodeJS.Timeout | null;
  flushScheduled: boolean;
}

function helloFrame(member: HelloMember): Buffer {
  const body = Buffer.from(JSON.stringify({ protocol: PEER_PROTOCOL, member } satisfies Hello));
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** Parses a hello at the front of `buffer`: the hello and bytes used, null if incomplete. */
function readHello(buffer: Buffer): { hello: Hello; consumedBytes: number } | null {
  if (buffer.length < 4) return null;
  const length = buffer.readUInt32BE(0);
  if (length > HELLO_MAX_BYTES) throw new Error(`hello of ${length} bytes is too large`);
  if (buffer.length < 4 + length) return null;
  const parsed = JSON.parse(buffer.subarray(4, 4 + length).toString("utf8")) as Partial<Hello>;
  const member = parsed.member;
  if (parsed.protocol !== PEER_PROTOCOL) {
    throw new Error(`peer speaks ${String(parsed.protocol)}, expected ${PEER_PROTOCOL}`);
  }
  if (
    member === undefined ||
    typeof member.id !== "string" ||
    typeof member.address !== "string" ||
    typeof member.dc !== "string" ||
    typeof member.rack !== "string" ||
    typeof member.weight !== "number"
  ) {
    throw new Error("malformed hello");
  }
  return { hello: parsed as Hello, consumedBytes: 4 + length };
}

export class PeerTransport {
  private server: Server | undefined;
  private readonly links = new Map<NodeId, Link>();
  private readonly incoming = new Set<Socket>();
  private dropped = new Set<NodeId>();
  private closed = false;
  readonly counters: TransportCounters = {
    framesSent: 0,
    framesReceived: 0,
    framesDroppedByFault: 0,
    framesDroppedQueueFull: 0,
    badFrames: 0,
    connects: 0,
    connectFailures: 0,
  };
  /** Set by the driver once its node exists; envelopes arriving before are dropped. */
  onEnvelope: ((envelope: Envelope) => void) | undefined;

  constructor(
    private readonly self: HelloMember,
    private readonly logger: TransportLogger,
  ) {}

  /** Listen for peers; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = PEER_CONNECTIONS_MAX;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        const address = server.address();
        resolve(typeof address === "object" && address !== null ? address.port : port);
      });
    });
  }

  /** The fault layer: drop every frame to and from these peers (empty = healed). */
  setDropped(peers: Iterable<NodeId>): void {
    this.dropped = new Set(peers);
    this.logger.info({ dropped: [...this.dropped] }, "fault layer updated");
  }

  droppedPeers(): NodeId[] {
    return [...this.dropped].sort();
  }

  /** Queue one envelope for its destination (`address` from the membership). */
  send(envelope: Envelope, address: string): void {
    if (this.closed) return;
    if (this.dropped.has(envelope.to)) {
      this.counters.framesDroppedByFault++;
      return;
    }
    let frame: Uint8Array;
    try {
      frame = encodeEnvelope(envelope);
    } catch (error) {
      this.logger.warn({ err: error, to: envelope.to }, "envelope not sent");
      return;
    }
    const link = this.linkFor(envelope.to, address);
    if (link.queuedBytes + frame.length > PEER_QUEUE_MAX_BYTES) {
      this.counters.framesDroppedQueueFull++;
      return;
    }
    // Frames wait in the queue until the end of this event-loop turn and are
    // then written together (one writev): a socket write per frame was the
    // largest cost under load.
    link.queue.push(frame);
    link.queuedBytes += frame.length;
    if (!link.flushScheduled && link.connected) {
      link.flushScheduled = true;
      setImmediate(() => {
        link.flushScheduled = false;
        this.drain(link);
      });
    }
  }

  /** Frames waiting per peer (status). */
  queues(): { peer: NodeId; frames: number; bytes: number; connected: boolean }[] {
    return [...this.links.entries()]
      .map(([peer, link]) => ({
        peer,
        frames: link.queue.length,
        bytes: link.queuedBytes,
        connected: link.connected,
      }))
      .sort((a, b) => (a.peer < b.peer ? -1 : 1));
  }

  /**
   * Ask whoever listens at `hostPort` who it is (its hello). Used to resolve
   * --join seeds to member ids before the node starts.
   */
  probe(hostPort: string, timeoutMs: number): Promise<HelloMember> {
    const { host, port } = parseHostPort(hostPort);
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host, port });
      let buffer = Buffer.alloc(0);
      const timer = setTimeout(() => finish(new Error("no hello in time")), timeoutMs);
      const finish = (error: Error | null, member?: HelloMember) => {
        clearTimeout(timer);
        socket.destroy();
        if (error !== null) reject(error);
        else resolve(member!);
      };
      socket.on("connect", () => socket.write(helloFrame(this.self)));
      socket.on("data", (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        try {
          const parsed = readHello(buffer);
          if (parsed !== null) finish(null, parsed.hello.member);
        } catch (error) {
          finish(error as Error);
        }
      });
      socket.on("error", (error) => finish(error));
      socket.on("close", () => finish(new Error("closed before hello")));
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const link of this.links.values()) {
      if (link.retryTimer !== null) clearTimeout(link.retryTimer);
      link.socket?.destroy();
    }
    for (const socket of this.incoming) socket.destroy();
    const server = this.server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---------------------------------------------------------------------------

  private linkFor(peer: NodeId, address: string): Link {
    let link = this.links.get(peer);
    if (link !== undefined && link.address !== address) {
      // The peer moved (restarted elsewhere): drop the old connection.
      link.socket?.destroy();
      link.address = address;
    }
    if (link === undefined) {
      link = {
        address,
        socket: null,
        connected: false,
        queue: [],
        queuedBytes: 0,
        backoffMs: RECONNECT_BACKOFF_MIN_MS,
        retryTimer: null,
        flushScheduled: false,
      };
      this.links.set(peer, link);
      this.dial(peer, link);
    }
    return link;
  }

  private dial(peer: NodeId, link: Link): void {
    if (this.closed) return;
    let host: string;
    let port: number;
    try {
      const parsed = parseMemberAddress(link.address);
      host = parsed.host;
      port = parsed.peerPort;
    } catch {
      this.logger.warn({ peer, address: link.address }, "peer address does not parse");
      return;
    }
    const socket = tcpConnect({ host, port });
    socket.setNoDelay(true);
    link.socket = socket;
    socket.on("connect", () => {
      if (link.socket !== socket) return;
      this.counters.connects++;
      link.connected = true;
      link.backoffMs = RECONNECT_BACKOFF_MIN_MS;
      socket.write(helloFrame(this.self));
      this.drain(link);
    });
    socket.on("drain", () => this.drain(link));
    // The acceptor's hello comes back; nothing else does on a dialed connection.
    socket.on("data", () => {});
    socket.on("error", () => {});
    socket.on("close", () => {
      if (link.socket !== socket) return;
      if (!link.connected) this.counters.connectFailures++;
      link.connected = false;
      link.socket = null;
      if (this.closed || this.links.get(peer) !== link) return;
      const delayMs = link.backoffMs;
      link.backoffMs = Math.min(link.backoffMs * 2, RECONNECT_BACKOFF_MAX_MS);
      link.retryTimer = setTimeout(() => {
        link.retryTimer = null;
        this.dial(peer, link);
      }, delayMs);
      link.retryTimer.unref();
    });
  }

  private drain(link: Link): void {
    const socket = link.socket;
    if (socket === null || !link.connected) return;
    let sent = 0;
    socket.cork();
    while (sent < link.queue.length && socket.writableLength < PEER_SOCKET_HIGH_WATER_BYTES) {
      socket.write(link.queue[sent]!);
      link.queuedBytes -= link.queue[sent]!.length;
      sent++;
    }
    socket.uncork();
    if (sent > 0) {
      link.queue.splice(0, sent);
      this.counters.framesSent += sent;
    }
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.incoming.add(socket);
    socket.setNoDelay(true);
    let buffer: Buffer = Buffer.alloc(0);
    let peer: HelloMember | null = null;
    const helloTimer = setTimeout(() => {
      if (peer === null) socket.destroy();
    }, HELLO_TIMEOUT_MS);
    helloTimer.unref();
    const fail = (why: string, error?: unknown) => {
      this.counters.badFrames++;
      this.logger.warn({ err: error, peer: peer?.id }, `closing peer connection: ${why}`);
      socket.destroy();
    };
    socket.on("data", (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      if (peer === null) {
        let parsed: ReturnType<typeof readHello>;
        try {
          parsed = readHello(buffer);
        } catch (error) {
          fail("bad hello", error);
          return;
        }
        if (parsed === null) return;
        peer = parsed.hello.member;
        clearTimeout(helloTimer);
        buffer = buffer.subarray(parsed.consumedBytes);
        socket.write(helloFrame(this.self));
      }
      let decoded: ReturnType<typeof decodeFrames>;
      try {
        decoded = decodeFrames(buffer);
      } catch (error) {
        fail(error instanceof ClusterError ? error.message : "bad frame", error);
        return;
      }
      buffer = buffer.subarray(decoded.consumedBytes);
      if (buffer.length === 0) buffer = Buffer.alloc(0);
      for (const envelope of decoded.envelopes) {
        this.counters.framesReceived++;
        if (this.dropped.has(envelope.from)) {
          this.counters.framesDroppedByFault++;
          continue;
        }
        if (envelope.to !== this.self.id) continue;
        this.onEnvelope?.(envelope);
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(helloTimer);
      this.incoming.delete(socket);
    });
  }
}
