/**
 * Deterministic whole-cluster simulation: ClusterNodes in one process, a seeded
 * network that drops, delays (and so reorders), duplicates and partitions
 * messages, per-node clocks with skew, paused ("crashed") nodes, and clients
 * running a random workload against home replicas (cluster-aware clients).
 *
 * Everything random comes from one seed, events are ordered by (time, insertion
 * sequence), and the nodes read time only from their inputs — so a seed replays
 * exactly.
 */
import {
  type ClientReply,
  type ClientRequest,
  ClusterNode,
  type ConflictMode,
  type Dot,
  type Envelope,
  type KeyObject,
  MemoryHintStore,
  mergeObjects,
  type NodeCounters,
  type NodeTuning,
  type Output,
  PARTITION_COUNT,
  type VersionVector,
} from "../../../src/cluster/index.js";
import { hashRingFactory } from "../../../src/cluster/ring.js";
import { EventHeap } from "./heap.js";
import { pick, randomInt, seededRandom } from "./random.js";

export interface SimOptions {
  readonly seed: number;
  readonly mode: ConflictMode;
  readonly nodes: number;
  readonly clients: number;
  /** Simulated milliseconds of workload with faults. */
  readonly workloadMs: number;
  readonly dropProbability: number;
  readonly duplicateProbability: number;
  readonly delayMsMax: number;
  /** Inject partitions and pauses during the workload. */
  readonly faults: boolean;
  readonly registerKeys: number;
  readonly counterKeys: number;
  /** A node joins in the middle of the workload (exercises transfers). */
  readonly joinNode: boolean;
  /** A node (never n0) leaves in the middle of the workload (transfers away, then "left"). */
  readonly leaveNode?: boolean;
  /** Overrides of SIM_TUNING for this run. */
  readonly tuning?: Partial<NodeTuning>;
  /**
   * Receiver capacity: a node handles one delivered message at a time, each
   * costing this much simulated time per message and per object it carries
   * (as the shell persists a step before the next). 0 (default): infinitely fast.
   */
  readonly serviceMsPerMessage?: number;
  readonly serviceMsPerObject?: number;
}

export const DEFAULT_SIM: Omit<SimOptions, "seed" | "mode"> = {
  nodes: 5,
  clients: 5,
  workloadMs: 20_000,
  dropProbability: 0.03,
  duplicateProbability: 0.02,
  delayMsMax: 40,
  faults: true,
  registerKeys: 12,
  counterKeys: 3,
  joinNode: false,
};

/** Tunables scaled to simulated time so reaping and hint expiry happen within a run. */
export const SIM_TUNING: Partial<NodeTuning> = {
  requestTimeoutMs: 600,
  hintWindowMs: 8_000,
  tombstoneGraceMs: 12_000,
  maxMessageAgeMs: 2_000,
  antiEntropyIntervalMs: 50,
  antiEntropyExchangeTimeoutMs: 1_000,
  gossip: { intervalMs: 100, suspectAfterMs: 800, reportTtlMs: 1_600 },
};

const TICK_MS = 10;
const CLIENT_TIMEOUT_MS = 1_500;

/** One write as issued by a coordinator (acknowledged or not). */
export interface IssuedWrite {
  readonly requestId: string;
  readonly kind: "put" | "delete" | "incr";
  readonly key: string;
  readonly value: string | null;
  readonly delta: number;
  readonly dot: Dot;
  /** The context the write superseded. */
  readonly vv: VersionVector;
  acknowledged: boolean;
}

type SimEvent =
  | { atMs: number; sequence: number; kind: "deliver"; envelope: Envelope }
  | { atMs: number; sequence: number; kind: "tick"; node: string }
  | { atMs: number; sequence: number; kind: "client"; client: number }
  | { atMs: number; sequence: number; kind: "clientTimeout"; client: number; requestId: string }
  | { atMs: number; sequence: number; kind: "fault" };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface ClientState {
  inFlight: string | null;
  contexts: Map<string, string>;
  nextSequence: number;
}

export interface SimStats {
  writesAttempted: number;
  writesAcknowledged: number;
  writesFailed: number;
  readsAcknowledged: number;
  readsFailed: number;
  readsWithSiblings: number;
  messagesSent: number;
  messagesDropped: number;
  convergedAtMs: number | null;
}

export class Simulation {
  readonly nodes = new Map<string, ClusterNode>();
  readonly issued = new Map<string, IssuedWrite>();
  readonly stats: SimStats = {
    writesAttempted: 0,
    writesAcknowledged: 0,
    writesFailed: 0,
    readsAcknowledged: 0,
    readsFailed: 0,
    readsWithSiblings: 0,
    messagesSent: 0,
    messagesDropped: 0,
    convergedAtMs: null,
  };
  readonly log: string[] = [];
  private readonly random: () => number;
  private readonly heap = new EventHeap<SimEvent>();
  private sequence = 0;
  private nowMs = 0;
  private readonly skewMs = new Map<string, number>();
  /** What each node has persisted: objects, actor epoch, generation, hints (durable). */
  private readonly disks = new Map<
    string,
    { objects: Map<string, KeyObject>; epoch: number; generation: number; hints: MemoryHintStore }
  >();
  private readonly paused = new Set<string>();
  /** Nodes in different groups cannot talk; empty = no partition. */
  private groups: string[][] = [];
  private readonly clients: ClientState[] = [];
  private readonly pendingClient = new Map<string, number>();
  private faultsActive: boolean;
  private lossy = true;
  private readonly registerKeys: string[];
  private readonly counterKeys: string[];
  private joined = false;
  private left = false;
  /** With a service-time model: when each node is free to handle the next message. */
  private readonly busyUntilMs = new Map<string, number>();

  constructor(readonly options: SimOptions) {
    this.random = seededRandom(options.seed);
    this.faultsActive = options.faults;
    this.serviceMsPerMessage = options.serviceMsPerMessage ?? 0;
    this.serviceMsPerObject = options.serviceMsPerObject ?? 0;
    this.registerKeys = Array.from({ length: options.registerKeys }, (_, i) => `key-${i}`);
    this.counterKeys = Array.from({ length: options.counterKeys }, (_, i) => `count-${i}`);
    const members = Array.from({ length: options.nodes }, (_, i) => this.memberConfig(i));
    for (const member of members) this.addNode(member.id, members);
    for (let c = 0; c < options.clients; c += 1) {
      this.clients.push({ inFlight: null, contexts: new Map(), nextSequence: 0 });
      this.schedule({ kind: "client", client: c }, randomInt(this.random, 0, 50));
    }
    if (options.faults) this.schedule({ kind: "fault" }, 1_000);
  }

  private memberConfig(i: number) {
    const id = `n${i}`;
    return { id, address: `sim://${id}`, dc: `dc${i % 2}`, rack: "r1", weight: 1 };
  }

  private addNode(id: string, members: ReturnType<Simulation["memberConfig"]>[]): ClusterNode {
    this.disks.set(id, {
      objects: new Map(),
      epoch: 0,
      generation: 1,
      hints: new MemoryHintStore(),
    });
    const node = this.startNode(id, members);
    this.skewMs.set(id, randomInt(this.random, -50, 50));
    this.schedule({ kind: "tick", node: id }, randomInt(this.random, 1, TICK_MS));
    return node;
  }

  /** Start (or restart) a node from its simulated disk, as the real shell would. */
  private startNode(id: string, members: ReturnType<Simulation["memberConfig"]>[]): ClusterNode {
    const index = Number(id.slice(1));
    const disk = this.disks.get(id)!;
    const node = new ClusterNode(
      {
        ...this.memberConfig(index),
        generation: disk.generation,
        epoch: disk.epoch,
        seeds: members.map((m) => m.id),
        initialMembers: members,
        mode: this.options.mode,
        ringFactory: hashRingFactory,
        hintStore: disk.hints,
        random: seededRandom(this.options.seed * 7919 + index * 31 + disk.generation),
        tuning: { ...SIM_TUNING, ...this.options.tuning },
      },
      this.localTime(id),
    );
    for (const [key, object] of disk.objects) node.restore(key, object);
    this.nodes.set(id, node);
    return node;
  }

  /**
   * Crash and restart (kill -9): everything in memory is lost — pending requests,
   * gossip view, exchanges, transfers — and the node comes back from what it had
   * persisted, with the next generation (a new actor).
   */
  private restart(id: string): void {
    const disk = this.disks.get(id)!;
    disk.generation += 1;
    const members = [...this.nodes.keys()].map((nodeId) =>
      this.memberConfig(Number(nodeId.slice(1))),
    );
    this.startNode(id, members);
  }

  private schedule(event: DistributiveOmit<SimEvent, "atMs" | "sequence">, delayMs: number): void {
    this.sequence += 1;
    this.heap.push({ ...event, atMs: this.nowMs + delayMs, sequence: this.sequence } as SimEvent);
  }

  private localTime(node: string): number {
    return this.nowMs + (this.skewMs.get(node) ?? 0);
  }

  private canTalk(a: string, b: string): boolean {
    if (this.groups.length === 0) return true;
    return this.groups.some((g) => g.includes(a) && g.includes(b));
  }

  /** Run events until simulated time `untilMs`. */
  runUntil(untilMs: number): void {
    for (;;) {
      const next = this.heap.peek();
      if (next === undefined || next.atMs > untilMs) break;
      this.heap.pop();
      this.nowMs = next.atMs;
      this.handle(next);
    }
    this.nowMs = untilMs;
  }

  get timeMs(): number {
    return this.nowMs;
  }

  private handle(event: SimEvent): void {
    switch (event.kind) {
      case "tick": {
        if (!this.paused.has(event.node)) {
          this.apply(event.node, this.nodes.get(event.node)!.tick(this.localTime(event.node)));
        }
        this.schedule({ kind: "tick", node: event.node }, TICK_MS);
        break;
      }
      case "deliver": {
        const to = event.envelope.to;
        if (this.paused.has(to) || !this.canTalk(event.envelope.from, to)) {
          this.stats.messagesDropped += 1;
          break;
        }
        const node = this.nodes.get(to);
        if (node === undefined) break;
        const costMs = this.serviceCostMs(event.envelope);
        if (costMs > 0) {
          const busyUntilMs = this.busyUntilMs.get(to) ?? 0;
          if (busyUntilMs > this.nowMs) {
            // Queued behind earlier messages (FIFO: re-scheduled in arrival order).
            this.schedule({ kind: "deliver", envelope: event.envelope }, busyUntilMs - this.nowMs);
            break;
          }
          this.busyUntilMs.set(to, this.nowMs + costMs);
        }
        this.apply(to, node.receive(event.envelope, this.localTime(to)));
        break;
      }
      case "client":
        this.clientStep(event.client);
        break;
      case "clientTimeout": {
        const client = this.clients[event.client]!;
        if (client.inFlight === event.requestId) {
          client.inFlight = null;
          this.pendingClient.delete(event.requestId);
          this.countFailure(event.requestId);
          this.schedule({ kind: "client", client: event.client }, randomInt(this.random, 5, 40));
        }
        break;
      }
      case "fault":
        this.faultStep();
        break;
    }
  }

  private serviceMsPerMessage: number;
  private serviceMsPerObject: number;

  /** Change the receivers' service time from now on (see SimOptions). */
  setServiceTime(perMessageMs: number, perObjectMs: number): void {
    this.serviceMsPerMessage = perMessageMs;
    this.serviceMsPerObject = perObjectMs;
  }

  private serviceCostMs(envelope: Envelope): number {
    const perMessage = this.serviceMsPerMessage;
    const perObject = this.serviceMsPerObject;
    if (perMessage === 0 && perObject === 0) return 0;
    const message = envelope.message;
    let objects = 0;
    if (
      message.type === "transferBatch" ||
      message.type === "aeBucketReply" ||
      message.type === "aeObjects"
    ) {
      objects = message.objects.length;
    } else if (
      message.type === "replicate" ||
      message.type === "repair" ||
      message.type === "hintReplay"
    ) {
      objects = 1;
    }
    return perMessage + perObject * objects;
  }

  private apply(nodeId: string, outputs: readonly Output[]): void {
    for (const output of outputs) {
      if (output.kind === "send") {
        this.stats.messagesSent += 1;
        if (this.lossy && this.random() < this.options.dropProbability) {
          this.stats.messagesDropped += 1;
          continue;
        }
        const copies = this.lossy && this.random() < this.options.duplicateProbability ? 2 : 1;
        for (let i = 0; i < copies; i += 1) {
          this.schedule(
            { kind: "deliver", envelope: output.envelope },
            randomInt(this.random, 1, this.options.delayMsMax + 1),
          );
        }
      } else if (output.kind === "reply") {
        this.clientReply(output.reply);
      } else if (output.kind === "persist") {
        const disk = this.disks.get(nodeId)!;
        if (output.object === null) {
          disk.objects.delete(output.key);
        } else {
          disk.objects.set(output.key, output.object);
          this.recordIssued(nodeId, output.key, output.object);
        }
      } else if (output.kind === "persistEpoch") {
        this.disks.get(nodeId)!.epoch = output.epoch;
      }
    }
  }

  /**
   * Capture every write a coordinator creates (acknowledged or not, forwarded or
   * not): a persisted sibling whose dot belongs to the persisting node's actor and
   * has not been seen before is a new write.
   */
  private recordIssued(nodeId: string, key: string, object: KeyObject): void {
    const actor = this.nodes.get(nodeId)!.actor;
    for (const sibling of object.siblings) {
      if (sibling.dot.actor !== actor) continue;
      const id = `${sibling.dot.actor}/${sibling.dot.counter}`;
      if (this.issued.has(id)) continue;
      this.issued.set(id, {
        requestId: id,
        kind: sibling.value === null ? "delete" : "put",
        key,
        value: sibling.value === null ? null : new TextDecoder().decode(sibling.value),
        delta: 0,
        dot: sibling.dot,
        vv: sibling.vv,
        acknowledged: false,
      });
    }
  }

  /** Increments by request id: every one issued, acknowledged when its reply arrives. */
  private readonly increments = new Map<string, IssuedWrite>();

  private clientStep(clientIndex: number): void {
    if (this.nowMs >= this.options.workloadMs) return;
    const client = this.clients[clientIndex]!;
    if (client.inFlight !== null) return;
    const useCounter = this.counterKeys.length > 0 && this.random() < 0.15;
    const key = useCounter
      ? pick(this.random, this.counterKeys)
      : pick(this.random, this.registerKeys);
    client.nextSequence += 1;
    const requestId = `c${clientIndex}-${client.nextSequence}`;
    let request: ClientRequest;
    const roll = this.random();
    if (useCounter) {
      request =
        roll < 0.2
          ? { kind: "get", requestId, key }
          : { kind: "incr", requestId, key, delta: randomInt(this.random, -3, 10) };
    } else if (roll < 0.35) {
      request = { kind: "get", requestId, key };
    } else if (roll < 0.65) {
      request = {
        kind: "put",
        requestId,
        key,
        value: new TextEncoder().encode(requestId),
        context: client.contexts.get(key) ?? null,
        supersedeVisible: false,
      };
    } else if (roll < 0.88) {
      // Redis SET: supersede what the coordinator sees.
      request = {
        kind: "put",
        requestId,
        key,
        value: new TextEncoder().encode(requestId),
        context: null,
        supersedeVisible: true,
      };
    } else {
      request = {
        kind: "delete",
        requestId,
        key,
        context: client.contexts.get(key) ?? null,
        supersedeVisible: this.random() < 0.5,
      };
    }
    if (request.kind !== "get") this.stats.writesAttempted += 1;
    this.noteRequest(request);
    // Mostly a cluster-aware client (to a home replica, from its own ring view);
    // sometimes a plain one talking to any node, which forwards.
    const viewer = this.nodes.get("n0")!;
    const coordinator =
      this.random() < 0.8
        ? pick(this.random, viewer.homeReplicas(key))
        : pick(this.random, [...this.nodes.keys()]);
    client.inFlight = requestId;
    this.pendingClient.set(requestId, clientIndex);
    this.schedule({ kind: "clientTimeout", client: clientIndex, requestId }, CLIENT_TIMEOUT_MS);
    if (this.paused.has(coordinator)) return;
    const node = this.nodes.get(coordinator)!;
    this.apply(coordinator, node.request(request, this.localTime(coordinator)));
  }

  private noteRequest(request: ClientRequest): void {
    if (request.kind === "get") return;
    this.writeIds.add(request.requestId);
    if (request.kind === "incr") {
      this.increments.set(request.requestId, {
        requestId: request.requestId,
        kind: "incr",
        key: request.key,
        value: null,
        delta: request.delta,
        dot: { actor: "", counter: 0 },
        vv: {},
        acknowledged: false,
      });
    }
  }

  /** Every write issued: register writes (by dot) and increments. */
  allWrites(): IssuedWrite[] {
    return [...this.issued.values(), ...this.increments.values()];
  }

  /** Mark the write a "written" reply acknowledges. */
  private acknowledge(reply: Extract<ClientReply, { kind: "written" }>): void {
    const increment = this.increments.get(reply.requestId);
    if (increment !== undefined) {
      increment.acknowledged = true;
      return;
    }
    const issued = this.issued.get(`${reply.dot.actor}/${reply.dot.counter}`);
    if (issued === undefined)
      throw new Error(`acknowledged write ${reply.requestId} was never seen created`);
    issued.acknowledged = true;
  }

  private countFailure(requestId: string): void {
    if (this.writeIds.has(requestId)) this.stats.writesFailed += 1;
    else this.stats.readsFailed += 1;
  }

  private readonly writeIds = new Set<string>();

  private clientReply(reply: ClientReply): void {
    const clientIndex = this.pendingClient.get(reply.requestId);
    if (clientIndex === undefined) {
      // A directly submitted request, or a late reply after a client gave up.
      if (!reply.requestId.startsWith("c")) {
        this.replies.set(reply.requestId, reply);
        this.replyTimesMs.set(reply.requestId, this.nowMs);
        if (reply.kind === "written") this.acknowledge(reply);
      }
      return;
    }
    const client = this.clients[clientIndex]!;
    if (client.inFlight !== reply.requestId) return;
    this.pendingClient.delete(reply.requestId);
    client.inFlight = null;
    if (reply.kind === "read") {
      this.stats.readsAcknowledged += 1;
      if (reply.siblings.length > 1) this.stats.readsWithSiblings += 1;
      client.contexts.set(reply.key, reply.context);
    } else if (reply.kind === "written") {
      this.stats.writesAcknowledged += 1;
      this.acknowledge(reply);
      client.contexts.set(reply.key, reply.context);
    } else {
      this.countFailure(reply.requestId);
    }
    this.schedule({ kind: "client", client: clientIndex }, randomInt(this.random, 5, 40));
  }

  private faultStep(): void {
    if (!this.faultsActive || this.nowMs >= this.options.workloadMs) return;
    const ids = [...this.nodes.keys()];
    const roll = this.random();
    if (this.options.joinNode && !this.joined && this.nowMs > this.options.workloadMs / 3) {
      this.joined = true;
      this.join();
    } else if (
      this.options.leaveNode === true &&
      !this.left &&
      this.nowMs > this.options.workloadMs / 2
    ) {
      this.left = true;
      const leaver = pick(
        this.random,
        ids.filter((id) => id !== "n0"),
      );
      this.leave(leaver);
      this.log.push(`${this.nowMs}ms: ${leaver} leaves`);
    } else if (roll < 0.4) {
      // Partition: a random split into two sides.
      const shuffled = [...ids].sort(() => this.random() - 0.5);
      const cut = randomInt(this.random, 1, ids.length);
      this.groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
      this.log.push(`${this.nowMs}ms: partition ${JSON.stringify(this.groups)}`);
    } else if (roll < 0.55) {
      const victim = pick(this.random, ids);
      this.paused.add(victim);
      this.log.push(`${this.nowMs}ms: pause ${victim}`);
    } else if (roll < 0.7) {
      const victim = pick(this.random, ids);
      this.restart(victim);
      this.log.push(`${this.nowMs}ms: kill -9 and restart ${victim}`);
    } else {
      this.groups = [];
      this.paused.clear();
      this.log.push(`${this.nowMs}ms: heal`);
    }
    this.schedule({ kind: "fault" }, randomInt(this.random, 1_000, 4_000));
  }

  /** Stop faults and loss: every node up, every link working. */
  heal(): void {
    this.faultsActive = false;
    this.groups = [];
    this.paused.clear();
    this.lossy = false;
    this.log.push(`${this.nowMs}ms: heal for good`);
  }

  /** Partitions whose home replicas disagree on the Merkle root. */
  divergentPartitions(): number[] {
    const viewer = this.nodes.get("n0")!;
    const out: number[] = [];
    for (let p = 0; p < PARTITION_COUNT; p += 1) {
      const roots = new Set(
        viewer.partitionHome(p).map((id) => this.nodes.get(id)!.store.tree(p).root()),
      );
      if (roots.size > 1) out.push(p);
    }
    return out;
  }

  /** Keys held by a node that is not one of their home replicas (stray copies). */
  strayKeys(): number {
    const viewer = this.nodes.get("n0")!;
    let stray = 0;
    for (const [id, node] of this.nodes) {
      for (const key of node.store.keys()) if (!viewer.homeReplicas(key).includes(id)) stray += 1;
    }
    return stray;
  }

  /** Tombstone-only keys held, summed over nodes. */
  tombstones(): number {
    let total = 0;
    for (const node of this.nodes.values()) total += node.tombstoneCount();
    return total;
  }

  /** The nodes' counters, summed. */
  counters(): NodeCounters {
    const out = { ...this.nodes.get("n0")!.counters };
    for (const name of Object.keys(out) as (keyof NodeCounters)[]) {
      out[name] = 0;
      for (const node of this.nodes.values()) out[name] += node.counters[name];
    }
    return out;
  }

  /** Replies to requests submitted directly (not by the simulated clients). */
  readonly replies = new Map<string, ClientReply>();
  /** Simulated time each of those replies arrived. */
  readonly replyTimesMs = new Map<string, number>();

  /** A new node joins through the existing members (it starts empty); returns its id. */
  join(): string {
    const ids = [...this.nodes.keys()];
    const members = [...ids, `n${ids.length}`].map((_, i) => this.memberConfig(i));
    const newcomer = this.memberConfig(ids.length);
    this.addNode(newcomer.id, members);
    this.log.push(`${this.nowMs}ms: ${newcomer.id} joins`);
    return newcomer.id;
  }

  /** Submit a request to a node directly; its reply lands in `replies`. */
  submit(nodeId: string, request: ClientRequest): void {
    this.noteRequest(request);
    this.apply(nodeId, this.nodes.get(nodeId)!.request(request, this.localTime(nodeId)));
  }

  pause(nodeId: string): void {
    this.paused.add(nodeId);
  }

  resume(nodeId: string): void {
    this.paused.delete(nodeId);
  }

  /** Cut the network into groups (nodes in different groups cannot talk); [] heals. */
  partition(groups: string[][]): void {
    this.groups = groups;
  }

  /** An operator on `at` removes a dead member for good. */
  removeMember(at: string, nodeId: string): void {
    this.apply(at, this.nodes.get(at)!.removeMember(nodeId, this.localTime(at)));
  }

  /** Let a node leave (it streams its partitions away, then is "left"). */
  leave(nodeId: string): void {
    this.apply(nodeId, this.nodes.get(nodeId)!.leave(this.localTime(nodeId)));
  }

  /** Hints held anywhere, and transfers still running. */
  backlog(): { hints: number; transfers: number } {
    let hints = 0;
    let transfers = 0;
    for (const node of this.nodes.values()) {
      const status = node.status(this.nowMs);
      for (const entry of status.hintBacklog) hints += entry.hints;
      transfers += status.transfersOut.length;
    }
    return { hints, transfers };
  }

  /** Run after healing until replicas converge and no hint or transfer is left (or a limit). */
  runToQuiescence(limitMs: number): boolean {
    const endMs = this.nowMs + limitMs;
    while (this.nowMs < endMs) {
      this.runUntil(this.nowMs + 250);
      const backlog = this.backlog();
      if (
        backlog.hints === 0 &&
        backlog.transfers === 0 &&
        this.strayKeys() === 0 &&
        this.divergentPartitions().length === 0
      ) {
        this.stats.convergedAtMs ??= this.nowMs;
        return true;
      }
    }
    return false;
  }

  /** The converged object per key: the join over every node (equal on all replicas). */
  finalObjects(): Map<string, KeyObject> {
    const out = new Map<string, KeyObject>();
    for (const node of this.nodes.values()) {
      for (const key of node.store.keys()) {
        const object = node.store.get(key)!;
        const existing = out.get(key);
        out.set(
          key,
          existing === undefined ? object : mergeObjects(existing, object, this.options.mode),
        );
      }
    }
    return out;
  }
}
