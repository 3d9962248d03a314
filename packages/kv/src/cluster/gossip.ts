/**
 * Gossip membership and failure detection.
 *
 * Every member has a heartbeat counter it bumps on each tick; every
 * GOSSIP_INTERVAL_MS a node sends its whole view (members with heartbeats and
 * statuses, plus the members it currently suspects) to GOSSIP_FANOUT random
 * peers. A receiver keeps, per member, the highest (generation, heartbeat) and
 * the local time it last saw it advance. Heartbeats travel transitively, so one
 * broken link does not make a member look stale.
 *
 * A member is suspected when its heartbeat has not advanced for
 * SUSPECT_AFTER_MS; it is DOWN only when at least DOWN_CONFIRMATIONS distinct
 * members (this node included) suspect it, from reports fresher than
 * SUSPICION_REPORT_TTL_MS. It is up again as soon as its heartbeat advances.
 * Down/up is a local opinion; only statuses (join/leave) are cluster facts,
 * ordered by a per-member status version.
 *
 * Pure: time and randomness come in as arguments.
 */
import {
  DOWN_CONFIRMATIONS,
  GOSSIP_FANOUT,
  GOSSIP_INTERVAL_MS,
  SUSPECT_AFTER_MS,
  SUSPICION_REPORT_TTL_MS,
} from "./constants.js";
import type { MemberPlacementInfo, NodeId } from "./placement.js";

/** normal: on the ring. leaving: handing its data off. left: gone for good. */
export type MemberStatus = "normal" | "leaving" | "left";

export interface MemberState {
  readonly id: NodeId;
  /** How peers reach it (host:port): opaque to the core, used by the shell. */
  readonly address: string;
  readonly dc: string;
  readonly rack: string;
  readonly weight: number;
  readonly status: MemberStatus;
  /** Orders status changes: the higher version wins everywhere. */
  readonly statusVersion: number;
  /** Bumped when a node restarts, so its reset heartbeat still counts as newer. */
  readonly generation: number;
  readonly heartbeat: number;
}

export interface GossipMessage {
  readonly type: "gossip";
  readonly members: readonly MemberState[];
  /** Members the sender currently suspects (stale heartbeat). */
  readonly suspects: readonly NodeId[];
}

/** Limits on what a gossip message may carry (every network input is bounded). */
export const GOSSIP_MEMBERS_MAX = 1_024;

export interface GossipOptions {
  readonly intervalMs: number;
  readonly fanout: number;
  readonly suspectAfterMs: number;
  readonly downConfirmations: number;
  readonly reportTtlMs: number;
}

export const DEFAULT_GOSSIP_OPTIONS: GossipOptions = {
  intervalMs: GOSSIP_INTERVAL_MS,
  fanout: GOSSIP_FANOUT,
  suspectAfterMs: SUSPECT_AFTER_MS,
  downConfirmations: DOWN_CONFIRMATIONS,
  reportTtlMs: SUSPICION_REPORT_TTL_MS,
};

interface Known {
  state: MemberState;
  /** Local time the heartbeat last advanced (or the member was first heard of). */
  advancedAtMs: number;
}

export interface OutgoingGossip {
  readonly to: NodeId;
  readonly message: GossipMessage;
}

/** A uniform random number in [0, 1): the caller's seeded generator. */
export type Random = () => number;

export class Membership {
  private readonly known = new Map<NodeId, Known>();
  /** target → reporter → local time of the latest report that suspects target. */
  private readonly reports = new Map<NodeId, Map<NodeId, number>>();
  private nextGossipMs = 0;
  private readonly options: GossipOptions;

  constructor(
    self: Omit<MemberState, "heartbeat" | "statusVersion" | "status"> & {
      status?: MemberStatus;
    },
    private readonly seeds: readonly NodeId[],
    nowMs: number,
    options: Partial<GossipOptions> = {},
  ) {
    this.options = { ...DEFAULT_GOSSIP_OPTIONS, ...options };
    this.selfId = self.id;
    this.known.set(self.id, {
      state: { ...self, status: self.status ?? "normal", statusVersion: 1, heartbeat: 0 },
      advancedAtMs: nowMs,
    });
  }

  readonly selfId: NodeId;

  self(): MemberState {
    return this.known.get(this.selfId)!.state;
  }

  member(id: NodeId): MemberState | undefined {
    return this.known.get(id)?.state;
  }

  members(): MemberState[] {
    return [...this.known.values()].map((k) => k.state).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Members that own data on the ring (status normal), for the ring factory. */
  ringMembers(): MemberPlacementInfo[] {
    return this.members()
      .filter((m) => m.status === "normal")
      .map((m) => ({ id: m.id, dc: m.dc, rack: m.rack, weight: m.weight }));
  }

  /** Learn of a member from static configuration (bootstrap list) without gossip. */
  addKnown(
    state: Omit<MemberState, "heartbeat" | "statusVersion" | "status">,
    nowMs: number,
  ): void {
    if (this.known.has(state.id)) return;
    this.known.set(state.id, {
      state: { ...state, status: "normal", statusVersion: 1, heartbeat: 0 },
      advancedAtMs: nowMs,
    });
  }

  /** Change this node's status (join = normal, leave = leaving, then left). */
  setSelfStatus(status: MemberStatus): void {
    const entry = this.known.get(this.selfId)!;
    entry.state = { ...entry.state, status, statusVersion: entry.state.statusVersion + 1 };
  }

  /** An operator removes a dead member for good (replacement): gossiped as "left". */
  markLeft(id: NodeId): void {
    const entry = this.known.get(id);
    if (entry === undefined || id === this.selfId) return;
    entry.state = { ...entry.state, status: "left", statusVersion: entry.state.statusVersion + 1 };
  }

  /** Heartbeat stale for longer than suspectAfterMs (this node's own opinion). */
  suspects(id: NodeId, nowMs: number): boolean {
    if (id === this.selfId) return false;
    const entry = this.known.get(id);
    if (entry === undefined) return true;
    return nowMs - entry.advancedAtMs > this.options.suspectAfterMs;
  }

  /** Down: stale here, and suspected by at least downConfirmations members in all. */
  isDown(id: NodeId, nowMs: number): boolean {
    if (!this.suspects(id, nowMs)) return false;
    let confirmations = 1;
    const byReporter = this.reports.get(id);
    if (byReporter !== undefined) {
      for (const [reporter, atMs] of byReporter) {
        if (
          reporter !== id &&
          reporter !== this.selfId &&
          nowMs - atMs <= this.options.reportTtlMs
        ) {
          confirmations += 1;
        }
      }
    }
    return confirmations >= this.options.downConfirmations;
  }

  isUp(id: NodeId, nowMs: number): boolean {
    const state = this.known.get(id)?.state;
    if (state === undefined || state.status === "left") return false;
    return !this.isDown(id, nowMs);
  }

  /** One tick: bump our heartbeat; when due, gossip to random peers. */
  tick(nowMs: number, random: Random): OutgoingGossip[] {
    const self = this.known.get(this.selfId)!;
    self.state = { ...self.state, heartbeat: self.state.heartbeat + 1 };
    self.advancedAtMs = nowMs;
    if (nowMs < this.nextGossipMs) return [];
    this.nextGossipMs = nowMs + this.options.intervalMs;
    const peers = new Set<NodeId>();
    for (const m of this.known.values()) {
      if (m.state.id !== this.selfId && m.state.status !== "left") peers.add(m.state.id);
    }
    // Until a seed has answered, keep gossiping to the seeds (that is how we join).
    for (const seed of this.seeds) if (seed !== this.selfId) peers.add(seed);
    const candidates = [...peers].sort();
    const chosen: NodeId[] = [];
    while (chosen.length < this.options.fanout && candidates.length > 0) {
      const index = Math.floor(random() * candidates.length);
      chosen.push(candidates.splice(index, 1)[0]!);
    }
    const message = this.message(nowMs);
    return chosen.map((to) => ({ to, message }));
  }

  message(nowMs: number): GossipMessage {
    const suspects: NodeId[] = [];
    for (const id of this.known.keys()) if (this.suspects(id, nowMs)) suspects.push(id);
    return { type: "gossip", members: this.members(), suspects };
  }

  /** Merge a peer's view. Returns true when a status changed (the ring may have). */
  receive(from: NodeId, message: GossipMessage, nowMs: number): boolean {
    let statusChanged = false;
    for (const incoming of message.members.slice(0, GOSSIP_MEMBERS_MAX)) {
      const entry = this.known.get(incoming.id);
      if (entry === undefined) {
        this.known.set(incoming.id, { state: incoming, advancedAtMs: nowMs });
        statusChanged = true;
        continue;
      }
      if (incoming.id === this.selfId) {
        // The cluster knows a newer status of ours: we set it before a restart (a
        // leave in progress) or an operator removed us. Adopt it.
        if (incoming.statusVersion > entry.state.statusVersion) {
          entry.state = {
            ...entry.state,
            status: incoming.status,
            statusVersion: incoming.statusVersion,
          };
          statusChanged = true;
        }
        continue;
      }
      const current = entry.state;
      let next = current;
      if (
        incoming.generation > current.generation ||
        (incoming.generation === current.generation && incoming.heartbeat > current.heartbeat)
      ) {
        next = { ...next, generation: incoming.generation, heartbeat: incoming.heartbeat };
        entry.advancedAtMs = nowMs;
      }
      if (incoming.statusVersion > current.statusVersion) {
        next = {
          ...next,
          status: incoming.status,
          statusVersion: incoming.statusVersion,
          address: incoming.address,
          dc: incoming.dc,
          rack: incoming.rack,
          weight: incoming.weight,
        };
        statusChanged = true;
      }
      entry.state = next;
    }
    const suspected = new Set(message.suspects);
    for (const id of this.known.keys()) {
      let byReporter = this.reports.get(id);
      if (suspected.has(id)) {
        if (byReporter === undefined) {
          byReporter = new Map();
          this.reports.set(id, byReporter);
        }
        byReporter.set(from, nowMs);
      } else {
        byReporter?.delete(from);
      }
    }
    return statusChanged;
  }
}
