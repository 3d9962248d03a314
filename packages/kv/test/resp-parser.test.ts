/**
 * The streaming RESP parser: any split of the input gives the same commands;
 * inline commands follow sdssplitargs; limits give Redis's errors; large
 * payloads are assembled without quadratic copying.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { argsOf, type ParseEvent, RespParser, splitInlineArguments } from "../src/resp/parser.js";
import { encodeCommand, splitAt } from "./helpers.js";

const LIMITS = { maxBulkBytes: 512 * 1024 * 1024, queryBufferLimitBytes: 1024 * 1024 * 1024 };

/** Whether the suite's parsers emit ranged commands (every test runs in both modes). */
let rangesMode = false;
/** Ranged commands seen by parseAll since the suite started (the fast path must be taken). */
let rangedSeen = 0;

/** Events of parsing `chunks`; ranged commands are turned into views as they are emitted. */
function parseAll(chunks: Buffer[], limits = LIMITS, authenticated = true): ParseEvent[] {
  const parser = new RespParser(limits, () => authenticated, { ranges: rangesMode });
  const events: ParseEvent[] = [];
  for (const chunk of chunks) {
    parser.feed(chunk, (event) => {
      if (event.kind === "ranged") {
        rangedSeen++;
        events.push({ kind: "command", args: argsOf(event) });
      } else {
        events.push(event);
      }
    });
  }
  return events;
}

const argument = fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes));
const command = fc.array(argument, { minLength: 1, maxLength: 5 });

describe.each([false, true])("RespParser (ranges: %s)", (ranges) => {
  beforeAll(() => {
    rangesMode = ranges;
    rangedSeen = 0;
  });
  it("yields the same commands whatever the TCP chunking", () => {
    fc.assert(
      fc.property(
        fc.array(command, { minLength: 1, maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (commands, cuts) => {
          const data = Buffer.concat(commands.map((args) => encodeCommand(args)));
          const events = parseAll(splitAt(data, cuts));
          expect(events).toEqual(commands.map((args) => ({ kind: "command", args })));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("assembles a large payload arriving in small chunks", () => {
    const value = Buffer.alloc(3 * 1024 * 1024, 7);
    const data = encodeCommand(["SET", "k", value]);
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < data.length; offset += 1500)
      chunks.push(data.subarray(offset, offset + 1500));
    const started = process.hrtime.bigint();
    const events = parseAll(chunks);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event.kind === "command" && Buffer.compare(event.args[2]!, value)).toBe(0);
    // Not a timing assertion on the machine: a quadratic parser copies ~3 GB here and takes seconds.
    expect(elapsedMs).toBeLessThan(20_000);
  });

  it("parses inline commands like sdssplitargs", () => {
    expect(
      splitInlineArguments(Buffer.from(`set "a b" 'c d' e\\x41 "\\x41\\n"`))?.map(String),
    ).toEqual(["set", "a b", "c d", "e\\x41", "A\n"]);
    expect(splitInlineArguments(Buffer.from(`"unterminated`))).toBeUndefined();
    expect(splitInlineArguments(Buffer.from(`"a"b`))).toBeUndefined();
    expect(splitInlineArguments(Buffer.from("   "))).toEqual([]);
    const events = parseAll([Buffer.from("PING\r\n\r\nECHO hi\n")]);
    expect(events).toEqual([
      { kind: "command", args: [Buffer.from("PING")] },
      { kind: "command", args: [Buffer.from("ECHO"), Buffer.from("hi")] },
    ]);
  });

  it("answers malformed input with Redis's protocol errors", () => {
    const cases: [string, string][] = [
      ["*3000000000\r\n", "Protocol error: invalid multibulk length"],
      ["*1\r\nfoo\r\n", "Protocol error: expected '$', got 'f'"],
      ["*1\r\n$-1\r\n", "Protocol error: invalid bulk length"],
      ["*1\r\n$01\r\nx\r\n", "Protocol error: invalid bulk length"],
      ['GET "x\r\n', "Protocol error: unbalanced quotes in request"],
      ["x".repeat(70_000), "Protocol error: too big inline request"],
      [`*${"1".repeat(70_000)}`, "Protocol error: too big mbulk count string"],
      [`*1\r\n$${"1".repeat(70_000)}`, "Protocol error: too big bulk count string"],
    ];
    for (const [input, text] of cases) {
      expect(parseAll([Buffer.from(input)]).at(-1)).toEqual({ kind: "protocolError", text });
    }
    expect(parseAll([Buffer.from("*1\r\n$11\r\n")], { ...LIMITS, maxBulkBytes: 10 })).toEqual([
      { kind: "protocolError", text: "Protocol error: invalid bulk length" },
    ]);
  });

  it("refuses large requests before authentication, like Redis", () => {
    expect(parseAll([Buffer.from("*11\r\n")], LIMITS, false)).toEqual([
      { kind: "protocolError", text: "Protocol error: unauthenticated multibulk length" },
    ]);
    expect(parseAll([Buffer.from("*1\r\n$16385\r\n")], LIMITS, false)).toEqual([
      { kind: "protocolError", text: "Protocol error: unauthenticated bulk length" },
    ]);
  });

  it("reports a query buffer overflow once an unfinished command passes the limit", () => {
    const limits = { maxBulkBytes: 1024 * 1024, queryBufferLimitBytes: 64 * 1024 };
    const events = parseAll(
      [Buffer.from("*2\r\n$3\r\nSET\r\n$100000\r\n"), Buffer.alloc(70_000, 1)],
      limits,
    );
    expect(events).toEqual([{ kind: "queryBufferOverflow" }]);
  });

  it("stops producing events after an error", () => {
    const events = parseAll([Buffer.from("*1\r\n$-1\r\n"), encodeCommand(["PING"])]);
    expect(events).toHaveLength(1);
  });

  it("emits commands inside one chunk as ranges in ranged mode, split ones as views", () => {
    const before = rangedSeen;
    const mset = encodeCommand(["MSET", "a", "1", "b", "2"]);
    const get = encodeCommand(["GET", "a"]);
    // One chunk with both commands, then MSET cut after its second argument.
    const events = parseAll([Buffer.concat([mset, get]), mset.subarray(0, 15), mset.subarray(15)]);
    const expected = (args: string[]) => ({
      kind: "command",
      args: args.map((a) => Buffer.from(a)),
    });
    expect(events).toEqual([
      expected(["MSET", "a", "1", "b", "2"]),
      expected(["GET", "a"]),
      expected(["MSET", "a", "1", "b", "2"]),
    ]);
    expect(rangedSeen - before).toBe(ranges ? 2 : 0);
  });
});
