/**
 * Hinted handoff storage. A fallback node that accepts a write for a down owner
 * keeps it as a hint: (owner, key) → the merged object, with the time the first
 * hint for that pair was stored. The node core only talks to the HintStore
 * interface; the shell makes it durable (the node's engine), the simulation
 * uses MemoryHintStore.
 *
 * Hints for one (owner, key) are coalesced by merging objects (a join), so a
 * backlog is bounded by keys, not by writes.
 */
import { type ConflictMode, type KeyObject, mergeObjects, objectDigest } from "./object.js";
import type { NodeId } from "./placement.js";

export interface Hint {
  readonly owner: NodeId;
  readonly key: string;
  readonly object: KeyObject;
  /** Local time the oldest coalesced hint was stored (for the hint window). */
  readonly storedAtMs: number;
}

export interface HintStore {
  /** Store or coalesce a hint. */
  add(owner: NodeId, key: string, object: KeyObject, nowMs: number, mode: ConflictMode): void;
  get(owner: NodeId, key: string): Hint | undefined;
  /** Every hint for a key, whatever the owner (a fallback answers reads from them). */
  forKey(key: string): Hint[];
  owners(): NodeId[];
  /** Up to `limit` hints for an owner, oldest first. */
  oldest(owner: NodeId, limit: number): Hint[];
  /** Remove a hint if its object still has this digest (it was delivered). */
  removeIfDigest(owner: NodeId, key: string, digest: string): boolean;
  /** Drop hints stored before `beforeMs`; returns how many. */
  expire(beforeMs: number): number;
  size(): number;
  sizeFor(owner: NodeId): number;
}

export class MemoryHintStore implements HintStore {
  private readonly byOwner = new Map<NodeId, Map<string, Hint>>();

  add(owner: NodeId, key: string, object: KeyObject, nowMs: number, mode: ConflictMode): void {
    let hints = this.byOwner.get(owner);
    if (hints === undefined) {
      hints = new Map();
      this.byOwner.set(owner, hints);
    }
    const existing = hints.get(key);
    if (existing === undefined) {
      hints.set(key, { owner, key, object, storedAtMs: nowMs });
    } else {
      hints.set(key, { ...existing, object: mergeObjects(existing.object, object, mode) });
    }
  }

  get(owner: NodeId, key: string): Hint | undefined {
    return this.byOwner.get(owner)?.get(key);
  }

  forKey(key: string): Hint[] {
    const out: Hint[] = [];
    for (const hints of this.byOwner.values()) {
      const hint = hints.get(key);
      if (hint !== undefined) out.push(hint);
    }
    return out;
  }

  owners(): NodeId[] {
    return [...this.byOwner.keys()].filter((o) => (this.byOwner.get(o)?.size ?? 0) > 0).sort();
  }

  oldest(owner: NodeId, limit: number): Hint[] {
    const hints = [...(this.byOwner.get(owner)?.values() ?? [])];
    hints.sort((a, b) => a.storedAtMs - b.storedAtMs || (a.key < b.key ? -1 : 1));
    return hints.slice(0, limit);
  }

  removeIfDigest(owner: NodeId, key: string, digest: string): boolean {
    const hints = this.byOwner.get(owner);
    const hint = hints?.get(key);
    if (hints === undefined || hint === undefined || objectDigest(hint.object) !== digest)
      return false;
    hints.delete(key);
    return true;
  }

  expire(beforeMs: number): number {
    let dropped = 0;
    for (const hints of this.byOwner.values()) {
      for (const [key, hint] of hints) {
        if (hint.storedAtMs < beforeMs) {
          hints.delete(key);
          dropped += 1;
        }
      }
    }
    return dropped;
  }

  size(): number {
    let total = 0;
    for (const hints of this.byOwner.values()) total += hints.size;
    return total;
  }

  sizeFor(owner: NodeId): number {
    return this.byOwner.get(owner)?.size ?? 0;
  }
}
