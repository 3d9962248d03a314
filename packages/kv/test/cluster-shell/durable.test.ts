/**
 * DurableHintStore against the core's MemoryHintStore (model-based, fast-check):
 * the same random operations give the same views, and the journal written to a
 * real lsm database reloads into an identical store (what a restart sees).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "@scaleout/lsm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EMPTY_OBJECT,
  type Hint,
  type KeyObject,
  MemoryHintStore,
  objectDigest,
} from "../../src/cluster/index.js";
import { DurableHintStore, WriteBatch } from "../../src/cluster-shell/index.js";

function objectWith(actor: string, counter: number, value: string): KeyObject {
  return {
    ...EMPTY_OBJECT,
    siblings: [
      {
        dot: { actor, counter },
        vv: Object.create(null),
        hlc: { wallMs: 1_000 + counter, logical: 0 },
        value: new TextEncoder().encode(value),
      },
    ],
  };
}

const owners = ["n1", "n2", "n3"];
const keys = ["a", "b", "c", "\u00ff\u0000k"];
const operation = fc.oneof(
  fc.record({
    kind: fc.constant("add" as const),
    owner: fc.constantFrom(...owners),
    key: fc.constantFrom(...keys),
    actor: fc.constantFrom("x:1.0", "y:1.0"),
    counter: fc.integer({ min: 1, max: 5 }),
    atMs: fc.integer({ min: 0, max: 100 }),
  }),
  fc.record({
    kind: fc.constant("remove" as const),
    owner: fc.constantFrom(...owners),
    key: fc.constantFrom(...keys),
    stale: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("expire" as const), beforeMs: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ kind: fc.constant("drain" as const) }),
);

function view(store: { owners(): string[]; oldest(owner: string, limit: number): Hint[] }) {
  return store
    .owners()
    .map((owner) => [
      owner,
      store.oldest(owner, 1_000).map((h) => [h.key, h.storedAtMs, objectDigest(h.object)]),
    ]);
}

describe("DurableHintStore", () => {
  it("behaves as MemoryHintStore and reloads from the engine exactly", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 40 }), async (operations) => {
        const dir = mkdtempSync(join(tmpdir(), "scaleout-kv-hints-"));
        const db = await open(dir, { syncPolicy: "never" });
        try {
          const model = new MemoryHintStore();
          const durable = new DurableHintStore();
          const drain = async () => {
            const batch = new WriteBatch();
            if (durable.drainInto(batch)) await db.write(batch);
          };
          for (const op of operations) {
            if (op.kind === "add") {
              const object = objectWith(op.actor, op.counter, `${op.actor}${op.counter}`);
              model.add(op.owner, op.key, object, op.atMs, "siblings");
              durable.add(op.owner, op.key, object, op.atMs, "siblings");
            } else if (op.kind === "remove") {
              const hint = model.get(op.owner, op.key);
              const digest = op.stale || hint === undefined ? "stale" : objectDigest(hint.object);
              expect(durable.removeIfDigest(op.owner, op.key, digest)).toBe(
                model.removeIfDigest(op.owner, op.key, digest),
              );
            } else if (op.kind === "expire") {
              expect(durable.expire(op.beforeMs)).toBe(model.expire(op.beforeMs));
            } else {
              await drain();
            }
            expect(durable.size()).toBe(model.size());
          }
          expect(view(durable)).toEqual(view(model));
          for (const key of keys) expect(durable.forKey(key).length).toBe(model.forKey(key).length);
          await drain();
          const reloaded = await DurableHintStore.load(db);
          expect(view(reloaded)).toEqual(view(model));
        } finally {
          await db.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 40 },
    );
  });
});
