/**
 * MSET's ranged path: a command the parser leaves as ranges of its chunk runs
 * straight into the store (no view per argument). Whatever the chunking and
 * the mix of commands, a node must answer exactly as the view path and a
 * model do, on both engines, including the errors Redis gives before a
 * command runs (arity, key size, authentication, memory).
 */
import { freePort } from "@scaleout/testkit";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvNode } from "../src/node.js";
import { DEFAULT_NODE_CONFIG, type NodeConfig } from "../src/server/config.js";
import { encodeCommand, RawClient, splitAt, tempDir, type Wire } from "./helpers.js";

const KEYS = ["a", "b", "key:000000000001", "a-key-longer-than-twenty-four-bytes"];

type Step =
  | { kind: "mset"; pairs: [number, Uint8Array][] }
  | { kind: "get"; key: number }
  | { kind: "mget"; keys: number[] };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("mset" as const),
    pairs: fc.array(fc.tuple(fc.nat(KEYS.length - 1), fc.uint8Array({ maxLength: 30 })), {
      minLength: 1,
      maxLength: 6,
    }),
  }),
  fc.record({ kind: fc.constant("get" as const), key: fc.nat(KEYS.length - 1) }),
  fc.record({
    kind: fc.constant("mget" as const),
    keys: fc.array(fc.nat(KEYS.length - 1), { minLength: 1, maxLength: 4 }),
  }),
);

async function startNode(overrides: Partial<NodeConfig>): Promise<{ node: KvNode; port: number }> {
  const port = await freePort();
  const node = await KvNode.start({
    ...DEFAULT_NODE_CONFIG,
    port,
    memcachedPort: 0,
    httpPort: 0,
    logLevel: "silent",
    dataDir: tempDir("mset-ranged"),
    ...overrides,
  });
  return { node, port };
}

/** Sends `payload` in the given pieces and reads `count` replies. */
async function exchange(client: RawClient, pieces: Buffer[], count: number): Promise<Wire[]> {
  for (const piece of pieces) client.write(piece);
  const replies: Wire[] = [];
  for (let i = 0; i < count; i++) replies.push(await client.read());
  return replies;
}

const bulk = (value: Uint8Array | undefined): Wire => ({
  t: "$",
  v: value === undefined ? null : Buffer.from(value).toString("latin1"),
});

describe.each(["memory", "lsm"] as const)("MSET from argument ranges (%s engine)", (engine) => {
  let node: KvNode;
  let port: number;
  let client: RawClient;

  beforeAll(async () => {
    ({ node, port } = await startNode({ engine }));
    client = await RawClient.connect(port);
  });

  afterAll(async () => {
    client?.close();
    await node?.close();
  });

  it("answers pipelined MSET/GET/MGET like a model whatever the chunking", async () => {
    const model = new Map<number, Uint8Array>();
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 25 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (steps, points) => {
          const commands: Buffer[] = [];
          const expected: Wire[] = [];
          for (const s of steps) {
            if (s.kind === "mset") {
              commands.push(
                encodeCommand(["MSET", ...s.pairs.flatMap(([k, v]) => [KEYS[k]!, Buffer.from(v)])]),
              );
              for (const [k, v] of s.pairs) model.set(k, v);
              expected.push({ t: "+", v: "OK" });
            } else if (s.kind === "get") {
              commands.push(encodeCommand(["GET", KEYS[s.key]!]));
              expected.push(bulk(model.get(s.key)));
            } else {
              commands.push(encodeCommand(["MGET", ...s.keys.map((k) => KEYS[k]!)]));
              expected.push({ t: "*", v: s.keys.map((k) => bulk(model.get(k))) });
            }
          }
          const pieces = splitAt(Buffer.concat(commands), points);
          expect(await exchange(client, pieces, expected.length)).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("refuses what Redis refuses before running MSET, on the ranged path too", async () => {
    // Twice in one chunk each: the second runs with the name already known.
    const oddArgs = encodeCommand(["MSET", "a", "1", "b"]);
    expect(await exchange(client, [Buffer.concat([oddArgs, oddArgs])], 2)).toEqual([
      { t: "-", v: "ERR wrong number of arguments for 'mset' command" },
      { t: "-", v: "ERR wrong number of arguments for 'mset' command" },
    ]);
    const tooLong = "k".repeat(DEFAULT_NODE_CONFIG.maxKeyBytes + 1);
    const longKey = encodeCommand(["MSET", "untouched", "1", tooLong, "2"]);
    const [first, second] = await exchange(client, [Buffer.concat([longKey, longKey])], 2);
    expect(first).toEqual(second);
    expect(first).toMatchObject({ t: "-" });
    expect((first as { v: string }).v).toMatch(/too long|too big|exceeds/i);
    // Nothing of a refused MSET was written.
    expect(await client.command("GET", "untouched")).toEqual({ t: "$", v: null });
  });
});

describe("MSET from argument ranges: authentication and memory", () => {
  it("answers NOAUTH before authentication and OOM under noeviction when full", async () => {
    const { node, port } = await startNode({
      engine: "memory",
      requirePass: "secret",
      maxMemoryBytes: 4096,
      eviction: "noeviction",
    });
    const client = await RawClient.connect(port);
    try {
      const mset = encodeCommand(["MSET", "a", "1"]);
      const noauth = await exchange(client, [Buffer.concat([mset, mset])], 2);
      for (const reply of noauth) {
        expect(reply).toEqual({ t: "-", v: "NOAUTH Authentication required." });
      }
      expect(await client.command("AUTH", "secret")).toEqual({ t: "+", v: "OK" });
      // Fill memory with one MSET per chunk until the engine refuses.
      let refused: Wire | undefined;
      for (let i = 0; i < 200 && refused === undefined; i++) {
        const batch = encodeCommand(["MSET", `k${i}`, "x".repeat(100), `j${i}`, "y".repeat(100)]);
        const [reply] = await exchange(client, [batch], 1);
        if (reply!.t === "-") refused = reply;
      }
      expect(refused).toEqual({
        t: "-",
        v: "OOM command not allowed when used memory > 'maxmemory'.",
      });
    } finally {
      client.close();
      await node.close();
    }
  });
});
