/**
 * Differential test: random sequences of the supported commands go to a real
 * redis-server and to our node (memory and lsm engines); every reply must be
 * identical, errors included. Times are chosen so replies do not depend on
 * the clock (TTLs of minutes, absolute expiries in 2100); KEYS replies are
 * compared as sets.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  encodeCommand,
  type NodeProcess,
  type Process,
  RawClient,
  startNode,
  startRedis,
  type Wire,
} from "./helpers.js";

// The empty key is a key in Redis (and here).
const KEYS = ["a", "b", "c", ""];
const key = fc.constantFrom(...KEYS);
const value = fc.oneof(
  fc.constantFrom(
    "",
    "0",
    "1",
    "-1",
    "10",
    "007",
    "+5",
    " 5",
    "9223372036854775807",
    "-9223372036854775808",
    "3.5",
    "abc",
    "x\r\ny",
    "\u0000\u00ff",
  ),
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.string({ maxLength: 8 }),
);
const integerArg = fc.oneof(
  fc.integer({ min: -100, max: 100 }).map(String),
  fc.constantFrom(
    "0",
    "abc",
    "1.5",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999",
    "",
  ),
);
const secondsArg = fc.oneof(
  fc.integer({ min: 100, max: 1000 }).map(String),
  fc.constantFrom("0", "-5", "x", "9223372036854775807"),
);
const floatArg = fc.oneof(
  fc.constantFrom("1", "-1", "0.5", "2.25", "-3.75", "10", "1e3", "abc", "inf", "", " 1"),
  fc.integer({ min: -50, max: 50 }).map((n) => String(n / 4)),
);
const atSecondsArg = fc.oneof(
  fc.integer({ min: 4102444800, max: 4102444800 + 10000 }).map(String),
  fc.constantFrom("1", "0", "-1"),
);
const garbage = fc.constantFrom(
  "FOO",
  "nx",
  "XX",
  "GET",
  "KEEPTTL",
  "EX",
  "PX",
  "persist",
  "gt",
  "LT",
);

const setOptions = fc.array(
  fc.oneof(
    fc.constantFrom(["NX"], ["XX"], ["GET"], ["KEEPTTL"], ["nx"], ["get"]),
    secondsArg.map((s) => ["EX", s]),
    secondsArg.map((s) => ["PX", `${s}000`]),
    atSecondsArg.map((s) => ["EXAT", s]),
    atSecondsArg.map((s) => ["PXAT", `${s}000`]),
    garbage.map((g) => [g]),
  ),
  { maxLength: 3 },
);
const expireFlags = fc.array(fc.constantFrom("NX", "XX", "GT", "LT", "nx", "BAD"), {
  maxLength: 2,
});

const command: fc.Arbitrary<string[]> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(key, value, setOptions).map(([k, v, o]) => ["SET", k, v, ...o.flat()]),
  },
  { weight: 4, arbitrary: key.map((k) => ["GET", k]) },
  fc.tuple(key, value).map(([k, v]) => ["SETNX", k, v]),
  fc.tuple(key, secondsArg, value).map(([k, s, v]) => ["SETEX", k, s, v]),
  fc.tuple(key, secondsArg, value).map(([k, s, v]) => ["PSETEX", k, `${s}000`, v]),
  fc.tuple(key, value).map(([k, v]) => ["GETSET", k, v]),
  key.map((k) => ["GETDEL", k]),
  fc
    .tuple(
      key,
      fc.constantFrom(
        [],
        ["PERSIST"],
        ["EX", "500"],
        ["PX", "0"],
        ["EXAT", "4102444800"],
        ["FOO"],
        ["EX"],
      ),
    )
    .map(([k, o]) => ["GETEX", k, ...o]),
  fc.array(key, { minLength: 1, maxLength: 4 }).map((ks) => ["MGET", ...ks]),
  fc
    .array(fc.tuple(key, value), { minLength: 1, maxLength: 3 })
    .map((pairs) => ["MSET", ...pairs.flat()]),
  fc
    .array(fc.tuple(key, value), { minLength: 1, maxLength: 3 })
    .map((pairs) => ["MSETNX", ...pairs.flat()]),
  fc.tuple(key, value).map(([k, v]) => ["MSET", k, v, k]),
  fc.tuple(key, value).map(([k, v]) => ["APPEND", k, v]),
  key.map((k) => ["STRLEN", k]),
  fc.tuple(key, integerArg, integerArg).map(([k, s, e]) => ["GETRANGE", k, s, e]),
  fc
    .tuple(
      key,
      fc.oneof(fc.integer({ min: 0, max: 20 }).map(String), fc.constantFrom("-1", "x")),
      value,
    )
    .map(([k, o, v]) => ["SETRANGE", k, o, v]),
  { weight: 3, arbitrary: key.map((k) => ["INCR", k]) },
  key.map((k) => ["DECR", k]),
  fc.tuple(key, integerArg).map(([k, n]) => ["INCRBY", k, n]),
  fc.tuple(key, integerArg).map(([k, n]) => ["DECRBY", k, n]),
  fc.tuple(key, floatArg).map(([k, n]) => ["INCRBYFLOAT", k, n]),
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ["DEL", ...ks]),
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ["UNLINK", ...ks]),
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ["EXISTS", ...ks]),
  key.map((k) => ["TYPE", k]),
  fc
    .tuple(fc.constantFrom("EXPIRE", "PEXPIRE"), key, secondsArg, expireFlags)
    .map(([c, k, s, f]) => [c, k, c === "PEXPIRE" ? `${s}000` : s, ...f]),
  fc
    .tuple(fc.constantFrom("EXPIREAT", "PEXPIREAT"), key, atSecondsArg, expireFlags)
    .map(([c, k, s, f]) => [c, k, c === "PEXPIREAT" ? `${s}000` : s, ...f]),
  fc
    .tuple(fc.constantFrom("TTL", "EXPIRETIME", "PEXPIRETIME", "PERSIST"), key)
    .map(([c, k]) => [c, k]),
  fc.tuple(fc.constantFrom("RENAME", "RENAMENX"), key, key).map(([c, a, b]) => [c, a, b]),
  fc.constantFrom<string[]>(
    ["DBSIZE"],
    ["KEYS", "*"],
    ["KEYS", "[ab]"],
    ["KEYS", "?"],
    ["FLUSHALL"],
    ["FLUSHDB", "ASYNC"],
    ["FLUSHDB", "BAD"],
  ),
  fc.constantFrom<string[]>(
    ["PING"],
    ["PING", "hi"],
    ["PING", "a", "b"],
    ["ECHO", "x"],
    ["SELECT", "0"],
    ["SELECT", "x"],
  ),
  // Errors: arity, unknown commands, unknown subcommands, types out of scope.
  fc.constantFrom<string[]>(
    ["GET"],
    ["SET", "a"],
    ["INCR", "a", "b"],
    ["NOSUCH", "a", "b"],
    ["CLIENT", "NOSUCH"],
    ["CONFIG", "NOSUCH"],
    ["MSET", "a"],
    ["EXPIRE", "a"],
    ["SCAN", "x"],
    ["SCAN", "0", "COUNT", "0"],
    ["TTL", "a", "b"],
  ),
);

interface Server {
  name: string;
  client: RawClient;
}

/**
 * Replays a failure: `KV_DIFFERENTIAL_SEED=<seed> npx vitest run
 * packages/kv/test/differential-redis.test.ts` runs the property tests with
 * the seed fast-check reported (and its `path`, if given, in
 * KV_DIFFERENTIAL_PATH) instead of a random one.
 */
const replay: { seed?: number; path?: string } = {};
if (process.env.KV_DIFFERENTIAL_SEED) replay.seed = Number(process.env.KV_DIFFERENTIAL_SEED);
if (process.env.KV_DIFFERENTIAL_PATH) replay.path = process.env.KV_DIFFERENTIAL_PATH;

function normalize(args: string[], reply: Wire): Wire {
  if (args[0] === "KEYS" && reply.t === "*" && reply.v !== null) {
    return {
      t: "*",
      v: [...reply.v].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
    };
  }
  return reply;
}

/**
 * Known, documented differences are tolerated here and nowhere else.
 * The servers run a command a moment apart, so a relative TTL turned into an
 * absolute time (EXPIRETIME, PEXPIRETIME) or read back (TTL) may differ by a
 * clock tick: accept up to 1 s (1000 ms) of difference for those replies.
 */
function tolerateClock(args: string[], expected: Wire, actual: Wire): Wire {
  const command = args[0]!.toUpperCase();
  // INCRBYFLOAT: Redis computes in long double, we in double; beyond 2^53 the low digits differ.
  if (
    command === "INCRBYFLOAT" &&
    expected.t === "$" &&
    actual.t === "$" &&
    expected.v !== null &&
    actual.v !== null
  ) {
    const [x, y] = [Number(expected.v), Number(actual.v)];
    if (Math.abs(x) >= 2 ** 53 && Math.abs(x - y) <= Math.abs(x) * 1e-15) return expected;
  }
  const slack =
    command === "PEXPIRETIME" ? 1000 : command === "EXPIRETIME" || command === "TTL" ? 1 : 0;
  if (slack === 0 || expected.t !== ":" || actual.t !== ":") return actual;
  const difference = Math.abs(Number(expected.v) - Number(actual.v));
  return Number(expected.v) >= 0 && difference <= slack ? expected : actual;
}

describe("differential: our node vs redis-server", () => {
  let redis: Process;
  let memoryNode: NodeProcess;
  let lsmNode: NodeProcess;
  const servers: Server[] = [];

  beforeAll(async () => {
    [redis, memoryNode, lsmNode] = await Promise.all([
      startRedis(),
      startNode({ engine: "memory" }),
      startNode({ engine: "lsm" }),
    ]);
    servers.push(
      { name: "redis", client: await RawClient.connect(redis.port) },
      { name: "memory", client: await RawClient.connect(memoryNode.port) },
      { name: "lsm", client: await RawClient.connect(lsmNode.port) },
    );
  });

  afterAll(async () => {
    for (const server of servers) server.client.close();
    await Promise.all([redis?.stop(), memoryNode?.stop(), lsmNode?.stop()]);
  });

  it("answers random command sequences exactly as Redis does", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 25 }), async (commands) => {
        for (const server of servers) await server.client.command("FLUSHALL");
        for (const args of commands) {
          const replies = [];
          for (const server of servers) {
            const reply = await server.client.command(...args).catch((cause: Error) => {
              throw new Error(`${server.name}: ${JSON.stringify(args)}: ${cause.message}`);
            });
            replies.push(normalize(args, reply));
          }
          for (let i = 1; i < replies.length; i++) {
            const tolerated = tolerateClock(args, replies[0]!, replies[i]!);
            if (
              args[0]!.toUpperCase() === "INCRBYFLOAT" &&
              JSON.stringify(replies[i]) !== JSON.stringify(replies[0]) &&
              tolerated === replies[0]
            ) {
              // The documented double vs long double difference: the stored values differ in
              // their low digits too, so give our node Redis's value and keep comparing exactly.
              const stored = (replies[0] as { v: string }).v;
              await servers[i]!.client.command("SET", args[1]!, stored, "KEEPTTL");
            }
            replies[i] = tolerated;
          }
          expect({ args, memory: replies[1] }).toEqual({ args, memory: replies[0] });
          expect({ args, lsm: replies[2] }).toEqual({ args, lsm: replies[0] });
        }
      }),
      { numRuns: 80, endOnFailure: true, ...replay },
    );
  });

  it("pipelined sequences get the same replies in the same order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (commands) => {
        const outputs: Wire[][] = [];
        for (const server of servers) {
          await server.client.command("FLUSHALL");
          server.client.write(Buffer.concat(commands.map((args) => encodeCommand(args))));
          const replies: Wire[] = [];
          for (const args of commands) replies.push(normalize(args, await server.client.read()));
          outputs.push(replies);
        }
        // Compared up to the first INCRBYFLOAT whose result differs in its low digits (the
        // documented double vs long double difference): past it the stored values differ, and a
        // pipeline cannot be re-aligned midway as the sequential test does.
        let comparable = commands.length;
        for (const output of outputs.slice(1)) {
          output.forEach((reply, index) => {
            const expected = outputs[0]![index]!;
            const tolerated = tolerateClock(commands[index]!, expected, reply);
            if (
              commands[index]![0]!.toUpperCase() === "INCRBYFLOAT" &&
              JSON.stringify(reply) !== JSON.stringify(expected) &&
              tolerated === expected
            )
              comparable = Math.min(comparable, index + 1);
            output[index] = tolerated;
          });
        }
        expect(outputs[1]!.slice(0, comparable)).toEqual(outputs[0]!.slice(0, comparable));
        expect(outputs[2]!.slice(0, comparable)).toEqual(outputs[0]!.slice(0, comparable));
      }),
      { numRuns: 25, ...replay },
    );
  });

  it("counts a key set with an expiry in the past until it is reaped, as Redis does (seed -729849786)", async () => {
    // Redis 7.0 stores `SET k v EXAT <past>` and DBSIZE counts it until lazy or
    // active expiry deletes it; reads already treat it as missing. The lsm
    // engine's DBSIZE used to skip such keys. Sent as one write so that no
    // active-expiry cycle runs between the SET and the DBSIZE on any server.
    const sequence: string[][] = [
      ["FLUSHALL"],
      ["INCRBY", "a", "50"],
      ["SET", "b", ";_+hp", "EXAT", "1"],
      ["APPEND", "a", "-22"],
      ["DBSIZE"],
      ["SET", "c", "", "PXAT", "1000"],
      ["DBSIZE"],
      ["KEYS", "*"],
      ["EXISTS", "b"],
      ["DBSIZE"],
      ["GET", "c"],
      ["DBSIZE"],
    ];
    const outputs: Wire[][] = [];
    for (const server of servers) {
      server.client.write(Buffer.concat(sequence.map((args) => encodeCommand(args))));
      const replies: Wire[] = [];
      for (const args of sequence) replies.push(normalize(args, await server.client.read()));
      outputs.push(replies);
    }
    const dbsizes = outputs[0]!.filter((_, index) => sequence[index]![0] === "DBSIZE");
    expect(dbsizes).toEqual([
      { t: ":", v: "2" },
      { t: ":", v: "3" },
      { t: ":", v: "2" },
      { t: ":", v: "1" },
    ]);
    expect({ memory: outputs[1] }).toEqual({ memory: outputs[0] });
    expect({ lsm: outputs[2] }).toEqual({ lsm: outputs[0] });
  });

  it("speaks RESP3 after HELLO 3 like Redis", async () => {
    const probes: string[][] = [
      ["HELLO", "3"],
      ["SET", "k", "v"],
      ["GET", "nope"],
      ["MGET", "k", "nope"],
      ["CONFIG", "GET", "maxmemory"],
      ["INCRBYFLOAT", "f", "1.5"],
      ["HELLO", "4"],
      ["HELLO", "x"],
      ["HELLO", "2"],
      ["GET", "nope"],
    ];
    const results: Wire[][] = [];
    for (const server of servers) {
      await server.client.command("FLUSHALL");
      const replies: Wire[] = [];
      for (const args of probes) {
        const reply = await server.client.command(...args);
        // HELLO's map holds the server's version and client id: compare its shape.
        if (args[0] === "HELLO" && reply.t !== "-") {
          replies.push({ t: reply.t, v: [] } as Wire);
        } else {
          replies.push(reply);
        }
      }
      results.push(replies);
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });
});
