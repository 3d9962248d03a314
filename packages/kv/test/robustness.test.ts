/**
 * Robustness: random and malformed bytes never crash the node, and protocol
 * errors are answered (and the connection closed) exactly as Redis does.
 * Inputs are sent to a real redis-server and to our node; the raw bytes that
 * come back, and whether the server closed the connection, must match.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeProcess, type Process, RawClient, startNode, startRedis } from "./helpers.js";

/** Sends `payload` on a fresh connection; returns what came back and whether the server closed. */
async function probe(
  port: number,
  payload: Buffer | string,
  chunkSize?: number,
): Promise<{ reply: string; closed: boolean }> {
  const client = await RawClient.connect(port);
  const bytes = typeof payload === "string" ? Buffer.from(payload, "latin1") : payload;
  if (chunkSize === undefined) {
    client.write(bytes);
  } else {
    for (let offset = 0; offset < bytes.length; offset += chunkSize) {
      client.write(bytes.subarray(offset, offset + chunkSize));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  // A PING at the end tells "still open and answering" from "stopped listening".
  await new Promise((resolve) => setTimeout(resolve, 30));
  if (!client.closed) client.write("*1\r\n$4\r\nPING\r\n");
  // Done when the PING was answered or the server closed; else (input left mid-command) after a pause.
  const data = await client.readUntil(
    (buffer) => buffer.toString("latin1").endsWith("+PONG\r\n"),
    250,
  );
  const closed = client.closed || (await client.waitClosed(20));
  const reply = data.toString("latin1") + client.take().toString("latin1");
  client.close();
  return { reply, closed };
}

const BIG = 70 * 1024;

const MALFORMED: [string, string][] = [
  ["empty line", "\r\n"],
  ["negative multibulk count", "*-10\r\n"],
  ["zero multibulk count", "*0\r\n"],
  ["out of range multibulk count", "*3000000000\r\n"],
  ["non-numeric multibulk count", "*abc\r\n"],
  ["multibulk count with plus", "*+1\r\n$4\r\nPING\r\n"],
  ["expected dollar", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"],
  ["negative bulk length", "*1\r\n$-5\r\n"],
  ["bulk length over proto-max-bulk-len", "*1\r\n$600000000\r\n"],
  ["non-numeric bulk length", "*1\r\n$x\r\n"],
  ["bulk length with leading zero", "*1\r\n$04\r\nPING\r\n"],
  ["unbalanced double quote", 'SET "a b\r\n'],
  ["unbalanced single quote", "SET 'a b\r\n"],
  ["closing quote followed by a letter", 'SET "a"b c\r\n'],
  ["inline with escapes", 'ECHO "\\x41\\n\\t\\"q"\r\n'],
  ["inline with single-quote escape", "ECHO 'it\\'s'\r\n"],
  ["inline only spaces", "    \r\n"],
  ["inline LF only", "PING\n"],
  ["payload trailer not CRLF", "*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n"],
  ["too big inline request", "a".repeat(BIG)],
  ["too big mbulk count string", `*${"1".repeat(BIG)}`],
  ["too big bulk count string", `*1\r\n$${"1".repeat(BIG)}`],
  ["error then more commands", "*1\r\n$-1\r\n*1\r\n$4\r\nPING\r\n"],
  ["commands before an error are run", "*2\r\n$4\r\nECHO\r\n$2\r\nok\r\n*1\r\nx\r\n"],
];

describe("robustness", () => {
  let redis: Process;
  let node: NodeProcess;

  beforeAll(async () => {
    [redis, node] = await Promise.all([startRedis(), startNode({ engine: "memory" })]);
  });

  afterAll(async () => {
    await Promise.all([redis?.stop(), node?.stop()]);
  });

  it.each(MALFORMED)("answers %s as Redis does", async (_name, payload) => {
    const expected = await probe(redis.port, payload);
    const actual = await probe(node.port, payload);
    expect(actual).toEqual(expected);
  });

  it("answers the same whatever the TCP chunking", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...MALFORMED.filter(([, p]) => p.length < 1000)),
        fc.integer({ min: 1, max: 7 }),
        async ([, payload], chunk) => {
          const expected = await probe(redis.port, payload);
          const actual = await probe(node.port, payload, chunk);
          expect(actual).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("answers random protocol-shaped input exactly as Redis does", async () => {
    const token = fc.oneof(
      fc.constantFrom(
        "*1\r\n",
        "*2\r\n",
        "*3\r\n",
        "*-1\r\n",
        "*0\r\n",
        "$3\r\n",
        "$4\r\n",
        "$1\r\n",
        "$0\r\n",
        "$-1\r\n",
        "\r\n",
        "\n",
        "\r",
      ),
      fc.constantFrom("GET", "SET", "PING", "ECHO", "EXISTS", "k", "v", " ", '"', "'", "\\", "x"),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(token, { minLength: 1, maxLength: 14 }), async (tokens) => {
        const payload = tokens.join("");
        const expected = await probe(redis.port, payload);
        const actual = await probe(node.port, payload);
        expect({ payload, ...actual }).toEqual({ payload, ...expected });
      }),
      { numRuns: 80 },
    );
  });

  it("survives random bytes on all three protocols", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.constantFrom("resp", "memcached"),
        async (bytes, protocol) => {
          const port = protocol === "resp" ? node.port : node.memcachedPort;
          const client = await RawClient.connect(port);
          client.write(Buffer.from(bytes));
          await client.waitClosed(20);
          client.close();
        },
      ),
      { numRuns: 150 },
    );
    const bad = await fetch(`http://127.0.0.1:${node.httpPort}/kv/%ZZ`, {
      method: "PUT",
      body: "x",
    });
    expect(bad.status).toBe(204);
    expect(await (await fetch(`http://127.0.0.1:${node.httpPort}/kv/%25ZZ`)).text()).toBe("x");
    const response = await fetch(`http://127.0.0.1:${node.httpPort}/kv/%00%FF`, {
      method: "PUT",
      body: "x",
    });
    expect(response.status).toBe(204);
    expect(node.child.exitCode).toBeNull();
    const client = await RawClient.connect(node.port);
    expect(await client.command("PING")).toEqual({ t: "+", v: "PONG" });
    client.close();
  });
});
