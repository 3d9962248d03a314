/**
 * Differential test for the memcached text protocol: random command streams
 * (well-formed and malformed) go to a real memcached and to our node; the
 * bytes that come back must be identical, except CAS uniques, which each
 * server numbers its own way (normalized to "<cas>"; `cas` commands use the
 * unique each server itself returned).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeProcess, type Process, RawClient, startMemcached, startNode } from "./helpers.js";

const KEYS = ["a", "b", "c", "k".repeat(251)];
const key = fc.constantFrom(...KEYS.slice(0, 3), KEYS.slice(0, 3).join(" "), KEYS[3]!);
const value = fc.oneof(
  fc.constantFrom("", "0", "1", "42", "18446744073709551615", "abc", " 7", "x y"),
  fc.integer({ min: 0, max: 5000 }).map(String),
);
const flags = fc.constantFrom("0", "1", "4294967295", "-1", "x");
const exptime = fc.constantFrom("0", "100", "-1", "2592001", "4102444800", "x");
const noreply = fc.constantFrom("", " noreply");

/** A step is a line (with its data block) and an optional CAS lookup the test resolves per server. */
type Step = { line: string; casOf?: string };

const storage: fc.Arbitrary<Step> = fc
  .tuple(
    fc.constantFrom("set", "add", "replace", "append", "prepend"),
    key,
    flags,
    exptime,
    value,
    noreply,
    fc.constantFrom(0, 0, 0, 1, -1),
  )
  .map(([command, k, f, e, v, n, lengthSkew]) => ({
    line: `${command} ${k} ${f} ${e} ${v.length + lengthSkew}${n}\r\n${v}\r\n`,
  }));
const cas: fc.Arbitrary<Step> = fc
  .tuple(fc.constantFrom("a", "b"), value, fc.boolean(), noreply)
  .map(([k, v, good, n]) => ({
    line: `cas ${k} 0 0 ${v.length} ${good ? "{cas}" : "12345"}${n}\r\n${v}\r\n`,
    casOf: k,
  }));
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: storage },
  { weight: 2, arbitrary: cas },
  {
    weight: 3,
    arbitrary: fc
      .array(key, { minLength: 1, maxLength: 3 })
      .map((ks) => ({ line: `get ${ks.join(" ")}\r\n` })),
  },
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ({ line: `gets ${ks.join(" ")}\r\n` })),
  fc
    .tuple(fc.constantFrom("gat", "gats"), exptime, key)
    .map(([c, e, k]) => ({ line: `${c} ${e} ${k}\r\n` })),
  fc
    .tuple(
      fc.constantFrom("incr", "decr"),
      key,
      fc.constantFrom("1", "5", "0", "18446744073709551615", "abc", "-1"),
      noreply,
    )
    .map(([c, k, d, n]) => ({ line: `${c} ${k} ${d}${n}\r\n` })),
  fc
    .tuple(key, fc.constantFrom("", " 0", " 5", " noreply", " 0 noreply"))
    .map(([k, tail]) => ({ line: `delete ${k}${tail}\r\n` })),
  fc.tuple(key, exptime, noreply).map(([k, e, n]) => ({ line: `touch ${k} ${e}${n}\r\n` })),
  fc.constantFrom<Step>(
    { line: "flush_all\r\n" },
    { line: "flush_all 0\r\n" },
    { line: "flush_all noreply\r\n" },
    { line: "verbosity 1\r\n" },
    { line: "verbosity\r\n" },
    { line: "bogus command\r\n" },
    { line: "\r\n" },
    { line: "get\r\n" },
    { line: "set a 0 0\r\n" },
    { line: "incr a\r\n" },
    { line: "GET a\r\n" },
  ),
);

/** Bounds a wait that is already failing; generous so that a loaded machine changes only the time. */
const EXCHANGE_DEADLINE_MS = 30_000;

function normalizeCas(data: string): string {
  return data.replace(/^(VALUE \S+ \d+ \d+) \d+\r$/gm, "$1 <cas>\r");
}

/**
 * Sends `payload`, then an empty line and the meta no-op `mn`, and waits for
 * its "MN": replies come in order, so everything before it has been answered.
 * The empty line is a guard: a data block one byte longer than declared takes
 * one byte past its line (the guard's CR) and the rest of that line is an
 * error; no step here can reach the `mn` behind it. So the wait ends on the
 * marker, never after a fixed pause that a loaded machine could outlast.
 */
async function exchange(client: RawClient, payload: string): Promise<string> {
  client.write(`${payload}\r\nmn\r\n`);
  const data = (
    await client.readUntil(
      (buffer) => buffer.toString("latin1").endsWith("MN\r\n"),
      EXCHANGE_DEADLINE_MS,
    )
  ).toString("latin1");
  if (!data.endsWith("MN\r\n"))
    throw new Error(
      `no MN within ${EXCHANGE_DEADLINE_MS} ms after ${JSON.stringify(payload)}; got ${JSON.stringify(data)}`,
    );
  return normalizeCas(data);
}

async function casUnique(client: RawClient, key: string): Promise<string> {
  const reply = await exchange(client, "");
  void reply;
  client.write(`gets ${key}\r\nmn\r\n`);
  const data = (
    await client.readUntil((buffer) => buffer.toString("latin1").endsWith("MN\r\n"))
  ).toString("latin1");
  return /^VALUE \S+ \d+ \d+ (\d+)\r$/m.exec(data)?.[1] ?? "999";
}

describe("differential: our memcached protocol vs memcached", () => {
  let memcached: Process;
  let node: NodeProcess;
  let theirs: RawClient;
  let ours: RawClient;

  beforeAll(async () => {
    [memcached, node] = await Promise.all([startMemcached(), startNode({ engine: "memory" })]);
    theirs = await RawClient.connect(memcached.port);
    ours = await RawClient.connect(node.memcachedPort);
  });

  afterAll(async () => {
    theirs?.close();
    ours?.close();
    await Promise.all([memcached?.stop(), node?.stop()]);
  });

  it("answers random command streams byte for byte like memcached", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 20 }), async (steps) => {
        await exchange(theirs, "flush_all\r\n");
        await exchange(ours, "flush_all\r\n");
        for (const { line, casOf } of steps) {
          let theirLine = line;
          let ourLine = line;
          if (casOf !== undefined) {
            theirLine = line.replace("{cas}", await casUnique(theirs, casOf));
            ourLine = line.replace("{cas}", await casUnique(ours, casOf));
          }
          const expected = await exchange(theirs, theirLine);
          const actual = await exchange(ours, ourLine);
          expect({ line, reply: actual }).toEqual({ line, reply: expected });
        }
      }),
      { numRuns: 60 },
    );
  });
});
