/**
 * `npm run bench -- <suite> [--quick] [--json] [--only <part>[,<part>]]`: the
 * one runner for every benchmark suite. Progress and the table go to stderr;
 * with --json the last line of stdout is the result object of the benchmark
 * contract. --only runs just the named parts of a suite that declares parts
 * (`ratelimit`: memory, redis, error-rate, service), for iterating on one
 * comparison without paying for the rest.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { type BenchResult, type BenchSuite, formatTable, partFilter } from "./harness.js";
import { SUITES } from "./suites.js";

const repoRoot = resolve(fileURLToPath(import.meta.url), "../../../..");

function usage(): string {
  const names = SUITES.map((s) => s.suite).join(", ");
  return `usage: npm run bench -- <suite|all> [--quick] [--json] [--only <part>[,<part>]]\nsuites: ${names}\n--only: run only the named parts of one suite (a wrong name lists the suite's parts)`;
}

async function loadSuite(name: string): Promise<BenchSuite> {
  const location = SUITES.find((s) => s.suite === name);
  if (location === undefined) throw new Error(`unknown suite "${name}"\n${usage()}`);
  const path = resolve(repoRoot, location.packageDir, location.file);
  if (!existsSync(path))
    throw new Error(
      `suite "${name}" is not built yet (no ${location.packageDir}/${location.file})`,
    );
  const module = (await import(pathToFileURL(path).href)) as { default?: BenchSuite };
  if (module.default === undefined) throw new Error(`${path} has no default export (a BenchSuite)`);
  return module.default;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      quick: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      only: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    process.stderr.write(`${usage()}\n`);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const requested = positionals[0]!;
  const names = requested === "all" ? SUITES.map((s) => s.suite) : [requested];
  if (values.only !== undefined && names.length !== 1) {
    throw new Error("--only selects parts of one suite, not of all");
  }
  for (const name of names) {
    const suite = await loadSuite(name);
    const includes = partFilter(suite, values.only);
    const started = performance.now();
    process.stderr.write(
      `bench ${suite.name}: ${suite.description}${values.quick ? " (quick)" : ""}${values.only === undefined ? "" : ` (only ${values.only})`}\n`,
    );
    const results: BenchResult[] = await suite.run({
      quick: values.quick,
      includes,
      progress: (message) => process.stderr.write(`  [${suite.name}] ${message}\n`),
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stderr.write(`${formatTable(suite.name, results)}\n(${seconds} s)\n`);
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ suite: suite.name, quick: values.quick, results })}\n`,
      );
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
