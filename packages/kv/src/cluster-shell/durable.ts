/**
 * What a cluster node keeps in its lsm engine, one namespace per kind:
 *
 *   o:<key>                 encodeObject(object)  — the replica's objects
 *   h:<owner>\0<key>        JSON {storedAtMs, object}  — hinted-handoff hints
 *   m:generation            decimal — bumped (durably) on every start
 *   m:epoch                 decimal — the core's last persistEpoch
 *   m:members               JSON MemberRecord[] — for restarts without seeds
 *
 * Keys are the UTF-8 of the namespaced string (the core's keys are strings;
 * the RESP layer maps key bytes to strings as latin1, one char per byte).
 *
 * DurableHintStore is the core's HintStore kept in memory plus a journal of the
 * hints changed since the last drain: the driver writes the journal in the
 * same engine batch as the step's `persist` outputs, before the step's sends.
 */
import type { Database } from "@scaleout/lsm";
import { open, WriteBatch } from "@scaleout/lsm";
import type { ConflictMode, Hint, HintStore, KeyObject, NodeId } from "../cluster/index.js";
import { decodeObject, encodeObject, mergeObjects, objectDigest } from "../cluster/index.js";

export const OBJECT_PREFIX = "o:";
export const HINT_PREFIX = "h:";
export const META_GENERATION = "m:generation";
export const META_EPOCH = "m:epoch";
export const META_MEMBERS = "m:members";

export interface MemberRecord {
  readonly id: NodeId;
  readonly address: string;
  readonly dc: string;
  readonly rack: string;
  readonly weight: number;
}

export function dbKey(text: string): Uint8Array {
  return Buffer.from(text, "utf8");
}

function dbText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}

/** The next key after every key starting with `prefix` (for iterator bounds). */
function prefixEnd(prefix: string): Uint8Array {
  const bytes = Buffer.from(prefix, "utf8");
  bytes[bytes.length - 1]! += 1;
  return bytes;
}

export async function* scanPrefix(
  db: Database,
  prefix: string,
): AsyncGenerator<[suffix: string, value: Uint8Array]> {
  for await (const [key, value] of db.iterator({ gte: dbKey(prefix), lt: prefixEnd(prefix) })) {
    yield [dbText(key).slice(prefix.length), value];
  }
}

export async function readMeta(db: Database, name: string): Promise<string | undefined> {
  const value = await db.get(dbKey(name));
  return value === undefined ? undefined : dbText(value);
}

export function putObject(batch: WriteBatch, key: string, object: KeyObject | null): void {
  if (object === null) batch.delete(dbKey(OBJECT_PREFIX + key));
  else batch.put(dbKey(OBJECT_PREFIX + key), dbKey(encodeObject(object)));
}

/** Objects written per engine batch by bulkLoadObjects (bounds the batch's memory). */
export const BULK_LOAD_BATCH_OBJECTS = 4_096;

/**
 * Offline bulk load: write objects into the data directory of a node that is
 * not running, exactly as the node persists them (`o:<key>` records), so it
 * restores them at start. For seeding a cluster with a data set far faster
 * than client writes (the kv-cluster benchmark's 1 M keys, migrations): give
 * every home replica's directory the same objects and the replicas agree from
 * the start. The objects' dots must come from an actor no node uses (e.g.
 * `bulk:<run>.0`), so no node can mint the same dot again. Returns how many
 * objects were written.
 */
export async function bulkLoadObjects(
  dataDir: string,
  entries: Iterable<readonly [key: string, object: KeyObject]>,
): Promise<number> {
  const db = await open(dataDir, { syncPolicy: "never" });
  let written = 0;
  try {
    let batch = new WriteBatch();
    let inBatch = 0;
    for (const [key, object] of entries) {
      putObject(batch, key, object);
      inBatch += 1;
      written += 1;
      if (inBatch === BULK_LOAD_BATCH_OBJECTS) {
        await db.write(batch);
        batch = new WriteBatch();
        inBatch = 0;
      }
    }
    if (inBatch > 0) await db.write(batch);
  } finally {
    // close() flushes the commit log, so the node finds every record.
    await db.close();
  }
  return written;
}

function hintKey(owner: NodeId, key: string): string {
  return `${HINT_PREFIX}${owner}\u0000${key}`;
}

export class DurableHintStore implements HintStore {
  private readonly byOwner = new Map<NodeId, Map<string, Hint>>();
  private count = 0;
  /** (owner, key) changed since the last drain → the hint now (null: removed). */
  private readonly journal = new Map<string, Hint | null>();

  /** Load every stored hint (at start, before the node exists). */
  static async load(db: Database): Promise<DurableHintStore> {
    const store = new DurableHintStore();
    for await (const [suffix, value] of scanPrefix(db, HINT_PREFIX)) {
      const separator = suffix.indexOf("\u0000");
      if (separator < 0) continue;
      const owner = suffix.slice(0, separator);
      const key = suffix.slice(separator + 1);
      const record = JSON.parse(dbText(value)) as { storedAtMs: number; object: string };
      store.set({ owner, key, storedAtMs: record.storedAtMs, object: decodeObject(record.object) });
    }
    return store;
  }

  /** Move the journal into an engine batch (the driver writes it with the step). */
  drainInto(batch: WriteBatch): boolean {
    if (this.journal.size === 0) return false;
    for (const [flightKey, hint] of this.journal) {
      if (hint === null) batch.delete(dbKey(flightKey));
      else
        batch.put(
          dbKey(flightKey),
          dbKey(JSON.stringify({ storedAtMs: hint.storedAtMs, object: encodeObject(hint.object) })),
        );
    }
    this.journal.clear();
    return true;
  }

  get journalSize(): number {
    return this.journal.size;
  }

  private set(hint: Hint): void {
    let hints = this.byOwner.get(hint.owner);
    if (hints === undefined) {
      hints = new Map();
      this.byOwner.set(hint.owner, hints);
    }
    if (!hints.has(hint.key)) this.count += 1;
    hints.set(hint.key, hint);
  }

  private remove(owner: NodeId, key: string): void {
    const hints = this.byOwner.get(owner);
    if (hints?.delete(key) === true) {
      this.count -= 1;
      if (hints.size === 0) this.byOwner.delete(owner);
      this.journal.set(hintKey(owner, key), null);
    }
  }

  add(owner: NodeId, key: string, object: KeyObject, nowMs: number, mode: ConflictMode): void {
    const existing = this.get(owner, key);
    const hint: Hint =
      existing === undefined
        ? { owner, key, object, storedAtMs: nowMs }
        : { ...existing, object: mergeObjects(existing.object, object, mode) };
    this.set(hint);
    this.journal.set(hintKey(owner, key), hint);
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
    return [...this.byOwner.keys()].sort();
  }

  oldest(owner: NodeId, limit: number): Hint[] {
    const hints = [...(this.byOwner.get(owner)?.values() ?? [])];
    hints.sort((a, b) => a.storedAtMs - b.storedAtMs || (a.key < b.key ? -1 : 1));
    return hints.slice(0, limit);
  }

  removeIfDigest(owner: NodeId, key: string, digest: string): boolean {
    const hint = this.get(owner, key);
    if (hint === undefined || objectDigest(hint.object) !== digest) return false;
    this.remove(owner, key);
    return true;
  }

  expire(beforeMs: number): number {
    const expired: Hint[] = [];
    for (const hints of this.byOwner.values()) {
      for (const hint of hints.values()) if (hint.storedAtMs < beforeMs) expired.push(hint);
    }
    for (const hint of expired) this.remove(hint.owner, hint.key);
    return expired.length;
  }

  size(): number {
    return this.count;
  }

  sizeFor(owner: NodeId): number {
    return this.byOwner.get(owner)?.size ?? 0;
  }
}

export { WriteBatch };
