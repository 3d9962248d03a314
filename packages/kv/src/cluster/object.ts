/**
 * What a replica stores for one key: the DVV sibling set (register values and
 * tombstones), plus a PN-counter for INCR/DECR and the counter's "floor" — the
 * counter as it stood when the key was last deleted. The visible count is
 * value(counter) − value(floor), so a DEL resets the count while increments the
 * deleting coordinator had not seen survive it (add-wins).
 *
 * Merging two objects is a join (every part is), so replicas converge whatever
 * order read repair, hinted handoff, anti-entropy and transfers deliver them in.
 */
import { createHash } from "node:crypto";
import {
  type ActorId,
  compareSiblingsByDot,
  contextOf,
  lastWriteWins,
  mergeSiblings,
  newestSibling,
  newVector,
  type Sibling,
  type VersionVector,
} from "./dvv.js";
import { compareHlc, HLC_ZERO, type HlcTimestamp, maxHlc } from "./hlc.js";
import {
  counterExceeds,
  counterValue,
  EMPTY_COUNTER,
  mergeCounters,
  type PnCounter,
} from "./pncounter.js";

export type ConflictMode = "siblings" | "lww";

export interface KeyObject {
  readonly siblings: readonly Sibling[];
  readonly counter: PnCounter;
  readonly counterFloor: PnCounter;
  /** Newest HLC of an increment: orders the counter against register writes. */
  readonly counterHlc: HlcTimestamp;
}

export const EMPTY_OBJECT: KeyObject = Object.freeze({
  siblings: Object.freeze([]) as readonly Sibling[],
  counter: EMPTY_COUNTER,
  counterFloor: EMPTY_COUNTER,
  counterHlc: HLC_ZERO,
});

export function mergeObjects(a: KeyObject, b: KeyObject, mode: ConflictMode): KeyObject {
  const merged = mergeSiblings(a.siblings, b.siblings);
  const counterFloor = mergeCounters(a.counterFloor, b.counterFloor);
  return {
    siblings: mode === "lww" ? lastWriteWins(merged) : merged,
    // The floor never exceeds the counter: it is a snapshot of some counter.
    counter: mergeCounters(mergeCounters(a.counter, b.counter), counterFloor),
    counterFloor,
    counterHlc: maxHlc(a.counterHlc, b.counterHlc),
  };
}

/** The counter has increments newer than the last delete. */
export function counterActive(object: KeyObject): boolean {
  return counterExceeds(object.counter, object.counterFloor);
}

export function visibleCount(object: KeyObject): number {
  return counterValue(object.counter) - counterValue(object.counterFloor);
}

/** Only tombstones and no live count: a deleted key. An empty object counts too. */
export function isDeleted(object: KeyObject): boolean {
  return !counterActive(object) && object.siblings.every((s) => s.value === null);
}

/** The causal context a client gets with a read of this object. */
export function objectContext(object: KeyObject): VersionVector {
  return contextOf(object.siblings);
}

/** The newest tombstone's HLC, when the object is deleted (for the reaper's grace). */
export function deletedAt(object: KeyObject): HlcTimestamp | null {
  if (!isDeleted(object)) return null;
  const newest = newestSibling(object.siblings);
  return newest === undefined ? null : newest.hlc;
}

export type Resolved =
  | { readonly kind: "value"; readonly value: Uint8Array; readonly hlc: HlcTimestamp }
  | { readonly kind: "count"; readonly count: number; readonly hlc: HlcTimestamp }
  | { readonly kind: "absent" };

/**
 * One value for Redis-style GET: the newest live sibling by HLC, or the count
 * when an increment is newer than every register write.
 */
export function resolveNewest(object: KeyObject): Resolved {
  const newest = newestSibling(object.siblings);
  const counterLive = counterActive(object);
  if (counterLive && (newest === undefined || compareHlc(object.counterHlc, newest.hlc) > 0)) {
    return { kind: "count", count: visibleCount(object), hlc: object.counterHlc };
  }
  if (newest === undefined || newest.value === null) {
    if (counterLive) return { kind: "count", count: visibleCount(object), hlc: object.counterHlc };
    return { kind: "absent" };
  }
  return { kind: "value", value: newest.value, hlc: newest.hlc };
}

/** Every actor named anywhere in the object (to pick pruning victims). */
export function actorsOf(object: KeyObject): Set<ActorId> {
  const out = new Set<ActorId>();
  for (const s of object.siblings) {
    out.add(s.dot.actor);
    for (const a of Object.keys(s.vv)) out.add(a);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Canonical encoding: the digest, the Merkle leaves and persistence all use it,
// so two replicas holding equal objects produce byte-identical encodings.
// JSON, values base64; keys of every record sorted.
// WARNING: persisted by the shell — keep decodeObject accepting this shape.
// ---------------------------------------------------------------------------

interface EncodedSibling {
  a: string;
  c: number;
  vv: [string, number][];
  w: number;
  l: number;
  v: string | null;
}

interface EncodedObject {
  s: EncodedSibling[];
  ci: [string, number][];
  cd: [string, number][];
  fi: [string, number][];
  fd: [string, number][];
  cw: number;
  cl: number;
}

function sortedEntries(record: Readonly<Record<string, number>>): [string, number][] {
  return Object.entries(record)
    .filter((entry) => entry[1] !== 0)
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

export function encodeObject(object: KeyObject): string {
  const encoded: EncodedObject = {
    s: [...object.siblings].sort(compareSiblingsByDot).map((s) => ({
      a: s.dot.actor,
      c: s.dot.counter,
      vv: sortedEntries(s.vv),
      w: s.hlc.wallMs,
      l: s.hlc.logical,
      v: s.value === null ? null : Buffer.from(s.value).toString("base64"),
    })),
    ci: sortedEntries(object.counter.increments),
    cd: sortedEntries(object.counter.decrements),
    fi: sortedEntries(object.counterFloor.increments),
    fd: sortedEntries(object.counterFloor.decrements),
    cw: object.counterHlc.wallMs,
    cl: object.counterHlc.logical,
  };
  return JSON.stringify(encoded);
}

function vectorOf(entries: [string, number][]): Record<string, number> {
  const out = newVector();
  for (const [actor, counter] of entries) out[actor] = counter;
  return out;
}

export function decodeObject(text: string): KeyObject {
  const e = JSON.parse(text) as EncodedObject;
  return {
    siblings: e.s.map((s) => ({
      dot: { actor: s.a, counter: s.c },
      vv: vectorOf(s.vv),
      hlc: { wallMs: s.w, logical: s.l },
      value: s.v === null ? null : new Uint8Array(Buffer.from(s.v, "base64")),
    })),
    counter: { increments: vectorOf(e.ci), decrements: vectorOf(e.cd) },
    counterFloor: { increments: vectorOf(e.fi), decrements: vectorOf(e.fd) },
    counterHlc: { wallMs: e.cw, logical: e.cl },
  };
}

/** SHA-1 of the canonical encoding, hex: equal objects ⇔ equal digests. */
export function objectDigest(object: KeyObject): string {
  return digestOfEncoding(encodeObject(object));
}

/** objectDigest from an object's canonical encoding (encodeObject's output), without re-encoding. */
export function digestOfEncoding(encoded: string): string {
  return createHash("sha1").update(encoded).digest("hex");
}
