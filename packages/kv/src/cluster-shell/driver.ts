/**
 * ClusterDriver: the I/O shell around one ClusterNode (the deterministic core).
 *
 * - Ticks the node every TICK_INTERVAL_MS with the wall clock.
 * - Feeds it client requests (request → Promise of the ClientReply) and peer
 *   envelopes (from PeerTransport).
 * - Applies each step's outputs: `persist` (objects), hint-journal changes and
 *   `persistEpoch` go into ONE lsm WriteBatch; the step's `send`, `reply` and
 *   `log` outputs are released only once that batch is durable (under the
 *   engine's sync policy). A step with nothing to persist is released at once.
 *   Batches are issued at once, so concurrent steps share the engine's group
 *   commit. Steps are not released in order: a later step (say, a read reply)
 *   may carry a version whose own batch is still being written — the write's
 *   acknowledgement still waits for its batch. (Releasing strictly in order
 *   cost ~20 ms of p50 under load; with appendfsync everysec the engine's
 *   durability window is a second anyway.)
 * - On start: bumps the persisted generation, restores the epoch, the hints and
 *   every object, and resolves the --join seeds (host:peerPort) to member ids by
 *   asking each for its hello.
 */
import { mkdirSync } from "node:fs";
import { type Database, open, type SyncPolicy } from "@scaleout/lsm";
import type { Logger } from "pino";
import {
  type ClientReply,
  type ClientRequest,
  ClusterErrorCode,
  ClusterNode,
  type ConflictMode,
  decodeObject,
  type Envelope,
  hashRingFactory,
  type MemberConfig,
  type NodeStatus,
  type NodeTuning,
  type Output,
  PARTITION_COUNT,
} from "../cluster/index.js";
import {
  JOIN_RETRY_MS,
  JOIN_TIMEOUT_MS,
  MEMBERS_PERSIST_INTERVAL_MS,
  REQUEST_REPLY_MARGIN_MS,
  TICK_INTERVAL_MS,
} from "./constants.js";
import {
  DurableHintStore,
  dbKey,
  META_EPOCH,
  META_GENERATION,
  META_MEMBERS,
  type MemberRecord,
  OBJECT_PREFIX,
  putObject,
  readMeta,
  scanPrefix,
  WriteBatch,
} from "./durable.js";
import { ShellError, ShellErrorCode } from "./errors.js";
import { type HelloMember, PeerTransport, type TransportCounters } from "./transport.js";

/** A client request as the protocol layer builds it (the driver assigns the id). */
export type DriverRequest = ClientRequest extends infer R
  ? R extends ClientRequest
    ? Omit<R, "requestId">
    : never
  : never;

export interface DriverOptions {
  readonly id: string;
  readonly dc: string;
  readonly rack: string;
  readonly weight: number;
  /** The gossiped address (see address.ts): host:peerPort;resp=..;http=.. */
  readonly address: string;
  /** Interface and port the peer listener binds. */
  readonly bind: string;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly syncPolicy: SyncPolicy;
  /** Seed peer addresses (host:peerPort). */
  readonly join: readonly string[];
  readonly mode: ConflictMode;
  readonly logger: Logger;
  readonly tuning?: Partial<NodeTuning>;
}

/** What `scaleout kv status` shows: the core's status plus the shell's view. */
export interface ShellStatus extends NodeStatus {
  readonly generation: number;
  readonly transport: {
    readonly counters: TransportCounters;
    readonly dropped: readonly string[];
    readonly queues: ReturnType<PeerTransport["queues"]>;
  };
  /** Merkle root per partition this node is a home replica of (convergence checks). */
  readonly roots: Readonly<Record<string, string>>;
  readonly persistFailures: number;
  /** Ring weight per member (the core's member view leaves it out; clients need it). */
  readonly weights: Readonly<Record<string, number>>;
}

const NODE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export class ClusterDriver {
  private timer: NodeJS.Timeout | undefined;
  private nextRequestId = 0;
  private readonly waiting = new Map<
    string,
    { resolve: (reply: ClientReply) => void; timer: NodeJS.Timeout }
  >();
  /** Steps whose engine batch is being written (awaited on close). */
  private readonly inFlight = new Set<Promise<void>>();
  private membersSignature = "";
  private nextMembersPersistMs = 0;
  private persistFailures = 0;
  private closing = false;

  private constructor(
    readonly node: ClusterNode,
    private readonly db: Database,
    private readonly hints: DurableHintStore,
    readonly transport: PeerTransport,
    readonly generation: number,
    private readonly logger: Logger,
  ) {}

  static async start(options: DriverOptions): Promise<ClusterDriver> {
    if (!NODE_ID_PATTERN.test(options.id)) {
      throw new ShellError(
        ShellErrorCode.CLUSTER_CONFIG,
        `node-id: "${options.id}" must be 1-64 characters of A-Z a-z 0-9 _ . -`,
      );
    }
    const logger = options.logger;
    mkdirSync(options.dataDir, { recursive: true });
    const db = await open(options.dataDir, { syncPolicy: options.syncPolicy });
    let transport: PeerTransport | undefined;
    try {
      const generation = Number((await readMeta(db, META_GENERATION)) ?? "0") + 1;
      const epoch = Number((await readMeta(db, META_EPOCH)) ?? "0");
      const stored = await readMeta(db, META_MEMBERS);
      const persistedMembers: MemberRecord[] =
        stored === undefined ? [] : (JSON.parse(stored) as MemberRecord[]);
      const bump = new WriteBatch().put(dbKey(META_GENERATION), dbKey(String(generation)));
      await db.write(bump);
      if (options.syncPolicy !== "always") await db.flush();
      const hints = await DurableHintStore.load(db);

      const self: HelloMember = {
        id: options.id,
        address: options.address,
        dc: options.dc,
        rack: options.rack,
        weight: options.weight,
      };
      transport = new PeerTransport(self, logger.child({ component: "transport" }));
      await transport.listen(options.peerPort, options.bind);
      const seeds = await resolveSeeds(transport, options, persistedMembers.length > 0, logger);
      const initial = new Map<string, MemberConfig>();
      for (const member of [...persistedMembers, ...seeds]) {
        if (member.id !== options.id) initial.set(member.id, member);
      }
      const now = Date.now();
      const node = new ClusterNode(
        {
          id: options.id,
          address: options.address,
          dc: options.dc,
          rack: options.rack,
          weight: options.weight,
          generation,
          epoch,
          seeds: [...initial.keys()],
          initialMembers: [...initial.values()],
          mode: options.mode,
          ringFactory: hashRingFactory,
          hintStore: hints,
          random: Math.random,
          ...(options.tuning === undefined ? {} : { tuning: options.tuning }),
        },
        now,
      );
      let restored = 0;
      for await (const [key, value] of scanPrefix(db, OBJECT_PREFIX)) {
        const encoded = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString(
          "utf8",
        );
        node.restore(key, decodeObject(encoded), encoded);
        restored++;
      }
      const driver = new ClusterDriver(node, db, hints, transport, generation, logger);
      transport.onEnvelope = (envelope) => driver.receive(envelope);
      driver.timer = setInterval(() => driver.tick(), TICK_INTERVAL_MS);
      logger.info(
        {
          id: options.id,
          generation,
          epoch,
          restoredKeys: restored,
          hints: hints.size(),
          seeds: [...initial.keys()],
        },
        "cluster node started",
      );
      return driver;
    } catch (error) {
      await transport?.close();
      await db.close();
      throw error;
    }
  }

  /** Coordinate one client request; resolves with the core's reply (errors included). */
  request(request: DriverRequest): Promise<ClientReply> {
    const requestId = `c${++this.nextRequestId}`;
    const full = { ...request, requestId } as ClientRequest;
    if (this.closing) {
      return Promise.resolve(errorReply(full, ShellErrorCode.CLOSED, "the node is shutting down"));
    }
    const timeoutMs = (request.timeoutMs ?? 1_000) + REQUEST_REPLY_MARGIN_MS;
    const promise = new Promise<ClientReply>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        resolve(
          errorReply(full, ClusterErrorCode.TIMEOUT, `no reply for "${request.key}" in time`),
        );
      }, timeoutMs);
      this.waiting.set(requestId, { resolve, timer });
    });
    this.apply(this.node.request(full, Date.now()));
    return promise;
  }

  status(): ShellStatus {
    const base = this.node.status(Date.now());
    const roots: Record<string, string> = {};
    for (let partition = 0; partition < PARTITION_COUNT; partition++) {
      if (this.node.partitionHome(partition).includes(this.node.id)) {
        roots[String(partition)] = this.node.store.tree(partition).root();
      }
    }
    return {
      ...base,
      generation: this.generation,
      transport: {
        counters: { ...this.transport.counters },
        dropped: this.transport.droppedPeers(),
        queues: this.transport.queues(),
      },
      roots,
      persistFailures: this.persistFailures,
      weights: Object.fromEntries(this.node.membership.members().map((m) => [m.id, m.weight])),
    };
  }

  leave(): void {
    this.apply(this.node.leave(Date.now()));
  }

  removeMember(id: string): void {
    this.apply(this.node.removeMember(id, Date.now()));
  }

  setDropped(peers: readonly string[]): void {
    this.transport.setDropped(peers);
  }

  /** Stop ticking and receiving, wait for pending writes, close the engine. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.transport.onEnvelope = undefined;
    this.persistMembers(true);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.transport.close();
    for (const [requestId, waiter] of this.waiting) {
      clearTimeout(waiter.timer);
      waiter.resolve({
        kind: "error",
        requestId,
        key: "",
        code: ShellErrorCode.CLOSED,
        message: "the node shut down before the request completed",
        replied: 0,
        replicas: [],
      });
    }
    this.waiting.clear();
    await this.db.close();
  }

  // ---------------------------------------------------------------------------

  private receive(envelope: Envelope): void {
    if (this.closing) return;
    let outputs: Output[];
    try {
      outputs = this.node.receive(envelope, Date.now());
    } catch (error) {
      this.logger.warn({ err: error, from: envelope.from }, "peer message refused");
      return;
    }
    this.apply(outputs);
  }

  private tick(): void {
    if (this.closing) return;
    const now = Date.now();
    this.apply(this.node.tick(now));
    if (now >= this.nextMembersPersistMs) {
      this.nextMembersPersistMs = now + MEMBERS_PERSIST_INTERVAL_MS;
      this.persistMembers(false);
    }
  }

  private persistMembers(force: boolean): void {
    const members: MemberRecord[] = this.node.membership
      .members()
      .filter((m) => m.id !== this.node.id && m.status !== "left")
      .map((m) => ({ id: m.id, address: m.address, dc: m.dc, rack: m.rack, weight: m.weight }));
    const text = JSON.stringify(members);
    if (!force && text === this.membersSignature) return;
    this.membersSignature = text;
    const batch = new WriteBatch().put(dbKey(META_MEMBERS), dbKey(text));
    this.chain(this.db.write(batch), () => {});
  }

  /** Apply one step's outputs: persist first (one batch), then release in order. */
  private apply(outputs: Output[]): void {
    if (outputs.length === 0 && this.hints.journalSize === 0) return;
    let batch: WriteBatch | null = null;
    for (const output of outputs) {
      if (output.kind === "persist") {
        batch ??= new WriteBatch();
        putObject(batch, output.key, output.object);
      } else if (output.kind === "persistEpoch") {
        batch ??= new WriteBatch();
        batch.put(dbKey(META_EPOCH), dbKey(String(output.epoch)));
      }
    }
    if (this.hints.journalSize > 0) {
      batch ??= new WriteBatch();
      this.hints.drainInto(batch);
    }
    const release = (): void => this.release(outputs);
    if (batch === null) {
      release();
      return;
    }
    this.chain(this.db.write(batch), release, outputs);
  }

  private chain(written: Promise<void>, release: () => void, outputs: Output[] = []): void {
    const step = written
      .then(release, (error: unknown) => {
        this.persistFailures++;
        this.logger.error(
          { err: error },
          "persist failed: the step's sends and replies are dropped",
        );
        for (const output of outputs) {
          if (output.kind === "reply") {
            this.resolveReply(
              errorReply(
                { requestId: output.reply.requestId, key: output.reply.key },
                ShellErrorCode.PERSIST,
                `could not persist: ${(error as Error).message}`,
              ),
            );
          }
        }
      })
      .finally(() => {
        this.inFlight.delete(step);
      });
    this.inFlight.add(step);
  }

  private release(outputs: Output[]): void {
    for (const output of outputs) {
      switch (output.kind) {
        case "send": {
          const member = this.node.membership.member(output.envelope.to);
          if (member !== undefined) this.transport.send(output.envelope, member.address);
          break;
        }
        case "reply":
          this.resolveReply(output.reply);
          break;
        case "log":
          if (output.level === "warn") this.logger.warn(output.message);
          else this.logger.info(output.message);
          break;
        default:
          break;
      }
    }
  }

  private resolveReply(reply: ClientReply): void {
    const waiter = this.waiting.get(reply.requestId);
    if (waiter === undefined) return;
    this.waiting.delete(reply.requestId);
    clearTimeout(waiter.timer);
    waiter.resolve(reply);
  }
}

function errorReply(
  request: { requestId: string; key: string },
  code: string,
  message: string,
): ClientReply {
  return {
    kind: "error",
    requestId: request.requestId,
    key: request.key,
    code,
    message,
    replied: 0,
    replicas: [],
  };
}

/**
 * Ask each --join address who it is. A node that already knows members (it
 * persisted them) starts with whatever answers at once; a new node waits up to
 * JOIN_TIMEOUT_MS for at least one seed, since starting alone would make it a
 * separate cluster.
 */
async function resolveSeeds(
  transport: PeerTransport,
  options: DriverOptions,
  knowsMembers: boolean,
  logger: Logger,
): Promise<HelloMember[]> {
  if (options.join.length === 0) return [];
  const deadline = Date.now() + (knowsMembers ? 0 : JOIN_TIMEOUT_MS);
  for (;;) {
    const answers = await Promise.all(
      options.join.map((address) =>
        transport.probe(address, 1_000).catch((error: unknown) => {
          logger.debug({ err: error, seed: address }, "seed did not answer");
          return null;
        }),
      ),
    );
    const found = answers.filter(
      (member): member is HelloMember => member !== null && member.id !== options.id,
    );
    if (found.length > 0) return found;
    if (Date.now() >= deadline) {
      if (knowsMembers) return [];
      throw new ShellError(
        ShellErrorCode.JOIN,
        `no --join seed answered within ${JOIN_TIMEOUT_MS / 1000} s (${options.join.join(", ")})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, JOIN_RETRY_MS));
  }
}
