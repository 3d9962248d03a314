/** Small helpers shared by the engine's tests (temp directories come from @scaleout/testkit). */

export function bytes(text: string): Buffer {
  return Buffer.from(text, "utf8");
}

export async function collect(
  iterator: AsyncIterable<[Uint8Array, Uint8Array]>,
): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [key, value] of iterator) {
    out.push([Buffer.from(key).toString("hex"), Buffer.from(value).toString("hex")]);
  }
  return out;
}

/** Collects warnings logged by the engine. */
export function recordingLogger(): {
  warnings: { obj: object; msg: string }[];
  logger: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
} {
  const warnings: { obj: object; msg: string }[] = [];
  return {
    warnings,
    logger: {
      warn: (obj, msg) => warnings.push({ obj, msg }),
      info: () => {},
    },
  };
}
