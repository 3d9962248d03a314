/** Configuration: precedence (defaults < YAML < env < flags) and one-line errors naming the field. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/errors.js";
import { DEFAULT_NODE_CONFIG, parseMemory, resolveNodeConfig } from "../src/server/config.js";
import { tempDir } from "./helpers.js";

describe("node configuration", () => {
  it("applies defaults, then YAML, then environment, then flags", () => {
    const dir = tempDir("config");
    const file = join(dir, "node.yaml");
    writeFileSync(
      file,
      "port: 7100\nengine: memory\nmaxmemory: 1gb\nmaxmemory-policy: allkeys-lru\ntimeout: 5\n",
    );
    const config = resolveNodeConfig({
      configFile: file,
      env: { SCALEOUT_KV_PORT: "7200", SCALEOUT_KV_MEMCACHED_PORT: "0" },
      flags: { port: "7300", requirepass: "pw" },
    });
    expect(config).toMatchObject({
      port: 7300,
      memcachedPort: 0,
      engine: "memory",
      maxMemoryBytes: 1024 ** 3,
      eviction: "lru",
      idleTimeoutSeconds: 5,
      requirePass: "pw",
      bind: DEFAULT_NODE_CONFIG.bind,
    });
    expect(resolveNodeConfig()).toEqual(DEFAULT_NODE_CONFIG);
  });

  it("takes the lsm cache sizes, 0 turning the row cache off", () => {
    const config = resolveNodeConfig({
      flags: { "row-cache-size": "0", "block-cache-size": "16mb", "memtable-size": "8mb" },
    });
    expect(config).toMatchObject({
      rowCacheSizeBytes: 0,
      blockCacheSizeBytes: 16 * 1024 ** 2,
      memtableSizeBytes: 8 * 1024 ** 2,
    });
  });

  it("refuses bad values with an error naming the field", () => {
    const cases: [Record<string, string>, string][] = [
      [{ port: "70000" }, "port: 70000 is out of range (0..65535)"],
      [{ engine: "rocks" }, 'engine: "rocks" is not one of lsm, memory'],
      [{ maxmemory: "lots" }, 'maxmemory: "lots" is not a memory size (e.g. 100mb, 1gb)'],
      [{ "maxmemory-policy": "random" }, "maxmemory-policy:"],
      [{ "row-cache-size": "big" }, 'row-cache-size: "big" is not a memory size'],
      [{ appendfsync: "sometimes" }, 'appendfsync: "sometimes" is not one of always, everysec, no'],
      [{ maxmemory: "1gb" }, "maxmemory: applies to the memory engine only"],
      [{ nonsense: "1" }, "nonsense: unknown setting"],
    ];
    for (const [flags, message] of cases) {
      let caught: unknown;
      try {
        resolveNodeConfig({ flags });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as Error).message.startsWith(message)).toBe(true);
    }
  });

  it("parses memory sizes the way Redis does", () => {
    expect(parseMemory("100")).toBe(100);
    expect(parseMemory("1k")).toBe(1000);
    expect(parseMemory("1kb")).toBe(1024);
    expect(parseMemory("2MB")).toBe(2 * 1024 * 1024);
    expect(parseMemory("1g")).toBe(1e9);
    expect(parseMemory("1.5gb")).toBeUndefined();
    expect(parseMemory("-1")).toBeUndefined();
  });
});
