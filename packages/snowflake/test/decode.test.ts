import { describe, expect, it } from "vitest";
import { decode, PRESETS, parseCount, parseId, SnowflakeErrorCode } from "../src/index.js";

function message(run: () => unknown, code: string): string {
  try {
    run();
  } catch (error) {
    expect((error as { code?: string }).code).toBe(code);
    return (error as Error).message;
  }
  throw new Error("accepted");
}

describe("decode", () => {
  it("decodes a Twitter id (fields cross-checked with Python's integer shifts)", () => {
    expect(decode("1541815603606036480", PRESETS.twitter)).toEqual({
      id: "1541815603606036480",
      timestamp: 1656432460105,
      iso: "2022-06-28T16:07:40.105Z",
      datacenter: 11,
      machine: 26,
      sequence: 0,
    });
  });

  it("decodes a Sonyflake id: 10 ms units, sequence above the machine id", () => {
    expect(decode("12345678901234567", PRESETS.sonyflake)).toMatchObject({
      timestamp: 1416888198050,
      sequence: 107,
      machine: 19335,
      datacenter: 0,
    });
  });

  it("decodes a real Discord id (the Discord docs' example)", () => {
    expect(decode("175928847299117063", PRESETS.discord)).toMatchObject({
      timestamp: 1462015105796,
      datacenter: 1,
      machine: 0,
      sequence: 7,
    });
  });

  it("decodes ids given as bigint and string alike, and 0 and 2^63-1", () => {
    const layout = PRESETS.twitter;
    expect(decode(0n, layout)).toMatchObject({ timestamp: layout.epochMs, sequence: 0 });
    const max = decode("9223372036854775807", layout);
    expect(max).toMatchObject({ datacenter: 31, machine: 31, sequence: 4095 });
  });
});

describe("parsing ids and counts strictly", () => {
  it("says what is wrong with a bad id", () => {
    const code = SnowflakeErrorCode.ID_INVALID;
    expect(message(() => parseId("-12"), code)).toMatch(/negative/);
    expect(message(() => parseId("9223372036854775808"), code)).toMatch(/not below 2\^63/);
    expect(message(() => parseId("99999999999999999999999"), code)).toMatch(/not below 2\^63/);
    expect(message(() => parseId("12.5"), code)).toMatch(/not a decimal integer/);
    expect(message(() => parseId("0x1f"), code)).toMatch(/not a decimal integer/);
    expect(message(() => parseId("1e5"), code)).toMatch(/not a decimal integer/);
    expect(message(() => parseId(" 12"), code)).toMatch(/not a decimal integer/);
    expect(message(() => parseId(""), code)).toMatch(/empty/);
    expect(message(() => parseId("1".repeat(65)), code)).toMatch(/65 characters/);
    expect(parseId("9223372036854775807")).toBe(9223372036854775807n);
    expect(parseId("0")).toBe(0n);
  });

  it("says what is wrong with a bad count", () => {
    const code = SnowflakeErrorCode.COUNT_INVALID;
    expect(message(() => parseCount("0"), code)).toMatch(/at least 1/);
    expect(message(() => parseCount("-4"), code)).toMatch(/negative/);
    expect(message(() => parseCount("10001"), code)).toMatch(/over the limit of 10000/);
    expect(message(() => parseCount("ten"), code)).toMatch(/not an integer/);
    expect(message(() => parseCount("2.5"), code)).toMatch(/not an integer/);
    expect(parseCount("10000")).toBe(10_000);
    expect(parseCount("7", 5 + 5)).toBe(7);
  });
});
