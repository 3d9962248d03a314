/**
 * Robustness: random and malformed bytes never crash the node, and protocol
 * errors are answered (and the connection closed) exactly as Redis does.
 * Inputs are sent to a real redis-server and to our node; the raw bytes that
 * come back, and whether the server closed the connection, must match.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeProcess, type Process, RawClient, startNode, startRedis } from "./helpers.js";

/**
 * Every probe ends with a PING and an ECHO of a marker no input contains.
 * Commands are answered in order, so the marker's echo arriving means the
 * server has processed everything before it and is still open. The PING
 * guards the ECHO: if the input left the server mid-command, the PING's bytes
 * are what completes (or breaks) that command, and the ECHO starts at a
 * command boundary — the inputs here cannot swallow more than one 14-byte
 * command (bulk lengths of at most 4, at most 3 arguments).
 */
const END_MARK = "probe-end-5f0c2a";
const GUARD = "*1\r\n$4\r\nPING\r\n";
const END = `*2\r\n$4\r\nECHO\r\n$${END_MARK.length}\r\n${END_MARK}\r\n`;
const END_REPLY = `$${END_MARK.length}\r\n${END_MARK}\r\n`;

/** Overall deadline of one probe: generous, it only bounds a server that neither answers nor closes. */
const PROBE_DEADLINE_MS = 20_000;

/**
 * Inputs larger than this are left to the server alone until it closes: a
 * server that reads them in several reads (Redis: 16 kB each) decides "too
 * big" by how much it has read without a newline, so bytes sent after them
 * must not arrive early.
 */
const SEND_MARKERS_AT_ONCE_MAX_BYTES = 4096;

/**
 * Sends `payload` on a fresh connection; returns what came back and whether
 * the server closed. Waits on events only — the marker's echo or the close —
 * never on a fixed pause, so a loaded machine changes nothing but the time.
 */
async function probe(
  port: number,
  payload: Buffer | string,
  chunkSize?: number,
): Promise<{ reply: string; closed: boolean }> {
  const client = await RawClient.connect(port);
  try {
    const bytes = typeof payload === "string" ? Buffer.from(payload, "latin1") : payload;
    if (chunkSize === undefined) {
      client.write(bytes);
    } else {
      for (let offset = 0; offset < bytes.length; offset += chunkSize) {
        client.write(bytes.subarray(offset, offset + chunkSize));
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    if (bytes.length > SEND_MARKERS_AT_ONCE_MAX_BYTES) {
      // Every such input here is one Redis refuses and closes on; if a server
      // stays open, it still gets the markers (after the deadline) and is compared.
      if (await client.waitClosed(PROBE_DEADLINE_MS))
        return { reply: client.take().toString("latin1"), closed: true };
    }
    client.write(GUARD + END);
    const data = await client.readUntil(
      (buffer) => buffer.toString("latin1").endsWith(END_REPLY),
      PROBE_DEADLINE_MS,
    );
    const reply = data.toString("latin1") + client.take().toString("latin1");
    if (!client.closed && !reply.endsWith(END_REPLY))
      throw new Error(
        `port ${port} neither answered the end marker nor closed within ${PROBE_DEADLINE_MS} ms; got ${JSON.stringify(reply)}`,
      );
    return { reply, closed: client.closed };
  } finally {
    client.close();
  }
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

  // Regression: a protocol error in the same read as commands waiting behind an asynchronous
  // one (EXISTS) must be answered after them, as Redis does (":0", the unknown-command error for
  // "$4", then the protocol error); the node used to answer the error first and drop the middle.
  it("answers commands queued behind an async command before a protocol error", async () => {
    const payload = "EXISTS *1\r\n$4\r\n*1\r\n*1\r\n";
    const expected = await probe(redis.port, payload);
    expect(expected.reply).toContain("unknown command '$4'");
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
