/**
 * Benchmark harness shared by every suite. The contract (DESIGN.md):
 * `npm run bench -- <suite> [--quick] [--json]` prints a table on stderr and,
 * with --json, one JSON object as the last line of stdout. Ours and the peer
 * run in the same process, alternating, on the same inputs; `ratio` is always
 * "higher is better" (ours/peer for throughput, peer/ours for latency).
 */

export interface BenchContext {
  /** --quick: the whole suite must finish in under 45 s. */
  readonly quick: boolean;
  /**
   * --only: whether to run one of the suite's declared `parts`. Always true
   * when the flag is absent; the runner has already rejected unknown names.
   */
  includes(part: string): boolean;
  /** Write a progress line to stderr (never to stdout, which carries results). */
  progress(message: string): void;
}

export interface PeerFigure {
  name: string;
  value: number;
}

export interface BenchResult {
  name: string;
  unit: string;
  ours: number;
  peer: PeerFigure | null;
  /** ours/peer for "higher is better" units, peer/ours for latencies; null without a peer. */
  ratio: number | null;
  /** Anything else worth printing (duplicates counted, amplification, error rates). */
  notes?: Record<string, number | string | boolean>;
}

export interface BenchSuite {
  /** Suite name as typed on the command line, e.g. "ring". */
  name: string;
  description: string;
  /**
   * Named parts that `--only <part>[,<part>]` can select (e.g. "memory",
   * "redis"); a suite without parts always runs whole.
   */
  parts?: readonly string[];
  run(context: BenchContext): Promise<BenchResult[]>;
}

export function defineSuite(suite: BenchSuite): BenchSuite {
  return suite;
}

/**
 * The `includes` predicate for a context: every part when `only` is
 * undefined, else exactly the listed ones. Throws on a name the suite does
 * not declare, so a typo cannot silently run nothing.
 */
export function partFilter(suite: BenchSuite, only: string | undefined): (part: string) => boolean {
  if (only === undefined) return () => true;
  const declared = suite.parts ?? [];
  if (declared.length === 0)
    throw new Error(`suite "${suite.name}" has no parts to select with --only`);
  const wanted = new Set(
    only
      .split(",")
      .map((part) => part.trim())
      .filter((part) => part !== ""),
  );
  if (wanted.size === 0) throw new Error("--only needs at least one part name");
  for (const part of wanted) {
    if (!declared.includes(part))
      throw new Error(
        `suite "${suite.name}" has no part "${part}" (parts: ${declared.join(", ")})`,
      );
  }
  return (part) => wanted.has(part);
}

/** Units where a smaller figure is better; their ratio is peer/ours. */
const LOWER_IS_BETTER_UNITS = new Set(["ms", "us", "ns", "s", "bytes", "ms/op", "us/op", "ns/op"]);

export function isLowerBetter(unit: string): boolean {
  return LOWER_IS_BETTER_UNITS.has(unit);
}

/** Builds a result and computes its ratio so that higher is always better. */
export function result(
  name: string,
  unit: string,
  ours: number,
  peer: PeerFigure | null,
  notes?: BenchResult["notes"],
): BenchResult {
  let ratio: number | null = null;
  if (peer !== null && peer.value > 0 && ours > 0) {
    ratio = isLowerBetter(unit) ? peer.value / ours : ours / peer.value;
    ratio = Math.round(ratio * 1000) / 1000;
  }
  const out: BenchResult = { name, unit, ours: round(ours), peer, ratio };
  if (peer !== null) out.peer = { name: peer.name, value: round(peer.value) };
  if (notes !== undefined) out.notes = notes;
  return out;
}

function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  return Math.round(value * 1000) / 1000;
}

export type Work = () => void;
export type AsyncWork = () => Promise<void>;

/**
 * Runs `work` (one batch of `opsPerCall` operations) repeatedly for about
 * `durationMs` and returns operations per second.
 */
export function measureOpsPerSecond(work: Work, opsPerCall: number, durationMs: number): number {
  // Warm-up lets the JIT settle before the timed part.
  const warmUntil = performance.now() + Math.min(50, durationMs / 4);
  while (performance.now() < warmUntil) work();
  let calls = 0;
  const start = performance.now();
  let now = start;
  const end = start + durationMs;
  while (now < end) {
    work();
    calls++;
    now = performance.now();
  }
  return (calls * opsPerCall * 1000) / (now - start);
}

export async function measureOpsPerSecondAsync(
  work: AsyncWork,
  opsPerCall: number,
  durationMs: number,
): Promise<number> {
  let calls = 0;
  const start = performance.now();
  let now = start;
  const end = start + durationMs;
  while (now < end) {
    await work();
    calls++;
    now = performance.now();
  }
  return (calls * opsPerCall * 1000) / (now - start);
}

export interface AlternateOptions {
  /** How many ours/peer rounds; each side's figure is the median over rounds. */
  rounds: number;
  ours: () => number | Promise<number>;
  peer: () => number | Promise<number>;
  onRound?: (round: number, ours: number, peer: number) => void;
}

/**
 * Alternates ours and the peer round by round (ours first on even rounds,
 * peer first on odd ones) so drift on a noisy machine hits both sides alike;
 * returns the median of each side.
 */
export async function alternate(
  options: AlternateOptions,
): Promise<{ ours: number; peer: number }> {
  const ours: number[] = [];
  const peer: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    let o: number;
    let p: number;
    if (round % 2 === 0) {
      o = await options.ours();
      p = await options.peer();
    } else {
      p = await options.peer();
      o = await options.ours();
    }
    ours.push(o);
    peer.push(p);
    options.onRound?.(round, o, p);
  }
  return { ours: median(ours), peer: median(peer) };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of an empty list");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The q-quantile (0..1) of a list of samples, by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError("quantile of an empty list");
  const sorted = Float64Array.from(values).sort();
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

/** Deterministic pseudo-random generator (mulberry32) so both sides see the same inputs. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Formats results as an aligned text table. */
export function formatTable(suite: string, results: readonly BenchResult[]): string {
  const rows = [["benchmark", "unit", "ours", "peer", "peer value", "ratio"]];
  for (const r of results) {
    rows.push([
      r.name,
      r.unit,
      formatNumber(r.ours),
      r.peer?.name ?? "-",
      r.peer ? formatNumber(r.peer.value) : "-",
      r.ratio === null ? "-" : `${r.ratio.toFixed(2)}x`,
    ]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) =>
    row.map((cell, column) => cell.padEnd(widths[column]!)).join("  "),
  );
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  const notes = results
    .filter((r) => r.notes !== undefined)
    .map(
      (r) =>
        `  ${r.name}: ${Object.entries(r.notes!)
          .map(([k, v]) => `${k}=${v}`)
          .join(", ")}`,
    );
  return [`suite ${suite}`, ...lines, ...(notes.length > 0 ? ["notes:", ...notes] : [])].join("\n");
}

function formatNumber(value: number): string {
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  return String(value);
}
