/** Small helpers shared by the engine's tests (temp directories come from @scaleout/testkit). */
import { tempDir } from "@scaleout/testkit";
import type * as fc from "fast-check";
import { afterEach } from "vitest";
import type { Database } from "../../src/index.js";

/**
 * Call at module or describe level: returns a function that makes a fresh
 * temp directory, removed after each test.
 */
export function tempDirPerTest(prefix = "lsm"): () => string {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });
  return () => {
    const { dir, cleanup } = tempDir(prefix);
    cleanups.push(cleanup);
    return dir;
  };
}

/** Model-based test command: flush the memtable (the model does not change). */
export class FlushCommand<Model extends object>
  implements fc.AsyncCommand<Model, { db: Database }>
{
  check = () => true;
  async run(_model: Model, real: { db: Database }): Promise<void> {
    await real.db.flush();
  }
  toString = () => "flush()";
}

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
