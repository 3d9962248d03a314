/**
 * Dotted version vectors (Preguiça, Baquero, Almeida, Fonte, Gonçalves:
 * "Dotted Version Vectors: Logical Clocks for Optimistic Replication", 2010, and
 * "Scalable and Accurate Causality Tracking for Eventually Consistent Stores",
 * 2014 — the scheme Riak 2.0 uses).
 *
 * Every sibling (a concurrent version of one key) carries
 *   - a dot (actor, counter): the single event that created it, and
 *   - a version vector: the causal context the writer had seen.
 * Sibling x is obsolete when another sibling y's context covers x's dot
 * (y.vv[x.actor] >= x.counter): the writer of y saw x. Two writes through the
 * same coordinator get different dots, so they are never falsely merged, which is
 * the flaw of plain per-server vector clocks.
 *
 * Actors are `nodeId:epoch` strings; the counter is one monotonic counter per
 * actor (across all keys). An actor must hold, for each key, every live sibling it
 * created: the node starts a new epoch whenever it drops data (a handed-off
 * partition, a lost disk), so a vector entry never claims dots the actor forgot.
 *
 * Replicas exchange whole sibling sets; merge keeps the maximal siblings of the
 * union. Because a writer's context includes everything the versions it read had
 * seen, "saw" is transitive, and merge is then commutative, associative and
 * idempotent (a join). Pruning (below) can break that transitivity; merges then
 * still never drop a version nobody saw, and anti-entropy still leaves both
 * sides of an exchange identical, but a pruned-away supersession can linger as a
 * sibling.
 */
import { ClusterError, ClusterErrorCode } from "./errors.js";
import { compareHlc, type HlcTimestamp } from "./hlc.js";

export type ActorId = string;

/** actor → highest counter seen from that actor. Immutable by convention. */
export type VersionVector = Readonly<Record<ActorId, number>>;

export interface Dot {
  readonly actor: ActorId;
  readonly counter: number;
}

export interface Sibling {
  readonly dot: Dot;
  /** The causal context the writer supplied (what it had seen), pruned. */
  readonly vv: VersionVector;
  /** Coordinator HLC at write time: orders siblings for "newest" and LWW. */
  readonly hlc: HlcTimestamp;
  /** The value; null is a tombstone (a delete that carries its context). */
  readonly value: Uint8Array | null;
}

export const EMPTY_VV: VersionVector = Object.freeze(Object.create(null) as VersionVector);

export function dotKey(dot: Dot): string {
  return `${dot.actor}\u0000${dot.counter}`;
}

export function covers(vv: VersionVector, dot: Dot): boolean {
  return (vv[dot.actor] ?? 0) >= dot.counter;
}

/**
 * A fresh vector without a prototype: actor ids come from clients (contexts), and
 * an actor named "__proto__" must stay an ordinary entry.
 */
export function newVector(from?: VersionVector): Record<ActorId, number> {
  const out = Object.create(null) as Record<ActorId, number>;
  if (from !== undefined) for (const [actor, counter] of Object.entries(from)) out[actor] = counter;
  return out;
}

export function joinVectors(a: VersionVector, b: VersionVector): VersionVector {
  const out = newVector(a);
  for (const [actor, counter] of Object.entries(b)) {
    if ((out[actor] ?? 0) < counter) out[actor] = counter;
  }
  return out;
}

/** True when every entry of `a` is <= the same entry of `b`. */
export function vectorLessOrEqual(a: VersionVector, b: VersionVector): boolean {
  for (const [actor, counter] of Object.entries(a)) {
    if ((b[actor] ?? 0) < counter) return false;
  }
  return true;
}

/** The causal context of a sibling set: everything its writers saw, plus them. */
export function contextOf(siblings: readonly Sibling[]): VersionVector {
  const out = newVector();
  for (const sibling of siblings) {
    for (const [actor, counter] of Object.entries(sibling.vv)) {
      if ((out[actor] ?? 0) < counter) out[actor] = counter;
    }
    if ((out[sibling.dot.actor] ?? 0) < sibling.dot.counter) {
      out[sibling.dot.actor] = sibling.dot.counter;
    }
  }
  return out;
}

/** Drop the siblings a context has seen (the write with that context supersedes them). */
export function discard(siblings: readonly Sibling[], context: VersionVector): Sibling[] {
  return siblings.filter((sibling) => !covers(context, sibling.dot));
}

/**
 * The join of two sibling sets: the union (deduplicated by dot) minus every
 * sibling whose dot another sibling's context covers. Sorted by dot, so equal
 * sets have equal encodings.
 */
export function mergeSiblings(a: readonly Sibling[], b: readonly Sibling[]): Sibling[] {
  const byDot = new Map<string, Sibling>();
  for (const sibling of a) byDot.set(dotKey(sibling.dot), sibling);
  for (const sibling of b) {
    const key = dotKey(sibling.dot);
    if (!byDot.has(key)) byDot.set(key, sibling);
  }
  const all = [...byDot.values()];
  const kept = all.filter((x) => !all.some((y) => y !== x && covers(y.vv, x.dot)));
  return kept.sort(compareSiblingsByDot);
}

export function compareSiblingsByDot(a: Sibling, b: Sibling): number {
  if (a.dot.actor !== b.dot.actor) return a.dot.actor < b.dot.actor ? -1 : 1;
  return a.dot.counter - b.dot.counter;
}

/** Newest by HLC, ties broken by actor then counter (total and deterministic). */
export function compareSiblingsByTime(a: Sibling, b: Sibling): number {
  const byHlc = compareHlc(a.hlc, b.hlc);
  if (byHlc !== 0) return byHlc;
  return compareSiblingsByDot(a, b);
}

export function newestSibling(siblings: readonly Sibling[]): Sibling | undefined {
  let best: Sibling | undefined;
  for (const sibling of siblings) {
    if (best === undefined || compareSiblingsByTime(sibling, best) > 0) best = sibling;
  }
  return best;
}

/**
 * Prune a vector to at most `threshold` entries. Entries of actors not in
 * `currentActors` (retired epochs, former owners) go first, smallest counter
 * first; then the smallest counters of the rest.
 *
 * Consequence (documented in README): a pruned context no longer covers the
 * dropped actors' dots, so an old version from those actors that still exists
 * somewhere comes back as a sibling (a false conflict) instead of being
 * superseded. Pruning can create siblings; it can never lose a write.
 */
export function pruneVector(
  vv: VersionVector,
  threshold: number,
  currentActors: ReadonlySet<ActorId>,
): VersionVector {
  const entries = Object.entries(vv);
  if (entries.length <= threshold) return vv;
  entries.sort((x, y) => {
    const xCurrent = currentActors.has(x[0]) ? 1 : 0;
    const yCurrent = currentActors.has(y[0]) ? 1 : 0;
    if (xCurrent !== yCurrent) return xCurrent - yCurrent;
    if (x[1] !== y[1]) return x[1] - y[1];
    return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0;
  });
  const out = newVector();
  for (const [actor, counter] of entries.slice(entries.length - threshold)) out[actor] = counter;
  return out;
}

export interface SiblingLimits {
  readonly warnCount: number;
  readonly maxCount: number;
}

export interface WriteOutcome {
  readonly siblings: Sibling[];
  /** Set when the key now holds more than warnCount siblings. */
  readonly warning: string | null;
}

/**
 * Apply a client write: discard what the context saw, add the new sibling.
 * Refuses (throws TOO_MANY_SIBLINGS) before changing anything when the key would
 * hold more than maxCount siblings; the client must read and resolve first.
 */
export function applyWrite(
  key: string,
  siblings: readonly Sibling[],
  created: Sibling,
  limits: SiblingLimits,
): WriteOutcome {
  const next = mergeSiblings(discard(siblings, created.vv), [created]);
  if (next.length > limits.maxCount) {
    throw new ClusterError(
      ClusterErrorCode.TOO_MANY_SIBLINGS,
      `key "${key}" would have ${next.length} siblings (limit ${limits.maxCount}): ` +
        "read it with KV.GET, resolve the siblings and write back with the context",
    );
  }
  const warning =
    next.length > limits.warnCount
      ? `key "${key}" has ${next.length} siblings (warning above ${limits.warnCount})`
      : null;
  return { siblings: next, warning };
}

/** Last-write-wins: keep only the newest sibling (loses concurrent writes, by design). */
export function lastWriteWins(siblings: readonly Sibling[]): Sibling[] {
  const newest = newestSibling(siblings);
  return newest === undefined ? [] : [newest];
}

// ---------------------------------------------------------------------------
// Opaque context encoding. Format (version 1), then base64url:
//   byte 0: format version (1)
//   varint: entry count
//   per entry, sorted by actor: varint actor byte length, actor UTF-8 bytes,
//   varint counter
// WARNING: clients hold these strings; decoders must keep accepting version 1.
// ---------------------------------------------------------------------------

const CONTEXT_FORMAT_VERSION = 1;
/** A context larger than this is refused: it bounds decoding work per request. */
export const CONTEXT_MAX_BYTES = 64 * 1024;

export function encodeContext(vv: VersionVector): string {
  const bytes: number[] = [CONTEXT_FORMAT_VERSION];
  const entries = Object.entries(vv).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  writeVarint(bytes, entries.length);
  const encoder = new TextEncoder();
  for (const [actor, counter] of entries) {
    const actorBytes = encoder.encode(actor);
    writeVarint(bytes, actorBytes.length);
    for (const b of actorBytes) bytes.push(b);
    writeVarint(bytes, counter);
  }
  return Buffer.from(bytes).toString("base64url");
}

export function decodeContext(text: string): VersionVector {
  const bad = (why: string): ClusterError =>
    new ClusterError(ClusterErrorCode.BAD_CONTEXT, `causal context does not decode: ${why}`);
  if (text.length === 0) return EMPTY_VV;
  if (text.length > Math.ceil((CONTEXT_MAX_BYTES * 4) / 3) + 4) throw bad("too large");
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw bad("not base64url");
  const bytes = Buffer.from(text, "base64url");
  const cursor = { at: 0 };
  if (bytes[0] !== CONTEXT_FORMAT_VERSION) throw bad(`unknown format version ${bytes[0]}`);
  cursor.at = 1;
  const count = readVarint(bytes, cursor, bad);
  if (count > bytes.length) throw bad("entry count larger than the context");
  const out = newVector();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for (let i = 0; i < count; i += 1) {
    const length = readVarint(bytes, cursor, bad);
    if (cursor.at + length > bytes.length) throw bad("truncated actor");
    let actor: string;
    try {
      actor = decoder.decode(bytes.subarray(cursor.at, cursor.at + length));
    } catch {
      throw bad("actor is not UTF-8");
    }
    cursor.at += length;
    const counter = readVarint(bytes, cursor, bad);
    if (counter < 1) throw bad("counter below 1");
    out[actor] = counter;
  }
  if (cursor.at !== bytes.length) throw bad("trailing bytes");
  return out;
}

function writeVarint(out: number[], value: number): void {
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

function readVarint(
  bytes: Uint8Array,
  cursor: { at: number },
  bad: (why: string) => Error,
): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 8; i += 1) {
    const b = bytes[cursor.at];
    if (b === undefined) throw bad("truncated varint");
    cursor.at += 1;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      if (!Number.isSafeInteger(value)) throw bad("varint out of range");
      return value;
    }
    scale *= 0x80;
  }
  throw bad("varint too long");
}
