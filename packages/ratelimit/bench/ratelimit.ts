/**
 * Benchmark suite `ratelimit`.
 *
 * Library half (issue 5):
 * - decisions/s in memory, ours (fixed window, MemoryStore) against
 *   rate-limiter-flexible's RateLimiterMemory (a fixed window is what it
 *   offers), one hot key and 10 000 keys, same key sequence, one awaited call
 *   per decision on both sides;
 * - decisions/s through Redis at concurrency 1 and 50, ours (RedisStore, one
 *   EVALSHA per decision, Redis TIME as the clock) against RateLimiterRedis on
 *   ioredis, both against one private redis-server started here; the commands
 *   each side sends per decision are counted on the client (round trips);
 * - the sliding window counter's wrong decisions against the exact log on a
 *   recorded random workload (Cloudflare quotes 0.003 %).
 *
 * Service half (issue 6) is in ./service-bench.ts and appended to the results.
 */
import { createRequire } from "node:module";
import {
  alternate,
  type BenchContext,
  type BenchResult,
  defineSuite,
  measureOpsPerSecondAsync,
  result,
  seededRandom,
} from "@scaleout/bench";
import {
  ALGORITHM_BY_NAME,
  type CompiledPolicy,
  compilePolicy,
  MemoryStore,
  RedisStore,
} from "@scaleout/ratelimit";
import { startRedisServer } from "@scaleout/testkit";
import { Redis } from "ioredis";
import { countCommands } from "../test/helpers/count-commands.js";
import { serviceResults } from "./service-bench.js";

interface PeerLimiter {
  consume(key: string, points?: number): Promise<unknown>;
}
interface PeerModule {
  RateLimiterMemory: new (options: { points: number; duration: number }) => PeerLimiter;
  RateLimiterRedis: new (options: {
    storeClient: Redis;
    points: number;
    duration: number;
    keyPrefix: string;
  }) => PeerLimiter;
}

const require = createRequire(import.meta.url);
const peer = require("rate-limiter-flexible") as PeerModule;
const PEER_NAME = `rate-limiter-flexible@${(require("rate-limiter-flexible/package.json") as { version: string }).version}`;

/** Large enough that nothing is denied: we measure the decision path, not rejections. */
const POINTS = 1_000_000_000;
const WINDOW_SECONDS = 60;
const DECISIONS_PER_CALL = 1_000;
const KEY_COUNT = 10_000;

export function makeKeySequence(count: number, length: number, seed: number): string[] {
  const random = seededRandom(seed);
  return Array.from({ length }, () => `user:${Math.floor(random() * count)}`);
}

async function memoryResults(
  context: BenchContext,
  durationMs: number,
  rounds: number,
): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const policy = compilePolicy({
    algorithm: "fixed_window",
    limit: POINTS,
    periodMs: WINDOW_SECONDS * 1000,
  });
  for (const [label, keys] of [
    ["1 hot key", ["hot"]],
    ["10 000 keys", makeKeySequence(KEY_COUNT, 100_000, 7)],
  ] as const) {
    const ours = new MemoryStore();
    const theirs = new peer.RateLimiterMemory({ points: POINTS, duration: WINDOW_SECONDS });
    let oursCursor = 0;
    let peerCursor = 0;
    const figures = await alternate({
      rounds,
      ours: () =>
        measureOpsPerSecondAsync(
          async () => {
            for (let i = 0; i < DECISIONS_PER_CALL; i++) {
              await ours.decide(keys[oursCursor]!, policy, 1);
              oursCursor = oursCursor + 1 === keys.length ? 0 : oursCursor + 1;
            }
          },
          DECISIONS_PER_CALL,
          durationMs,
        ),
      peer: () =>
        measureOpsPerSecondAsync(
          async () => {
            for (let i = 0; i < DECISIONS_PER_CALL; i++) {
              await theirs.consume(keys[peerCursor]!, 1);
              peerCursor = peerCursor + 1 === keys.length ? 0 : peerCursor + 1;
            }
          },
          DECISIONS_PER_CALL,
          durationMs,
        ),
      onRound: (round, o, p) =>
        context.progress(
          `memory ${label} round ${round}: ours ${Math.round(o)}/s, peer ${Math.round(p)}/s`,
        ),
    });
    results.push(
      result(`memory fixed window, ${label}`, "decisions/s", figures.ours, {
        name: `${PEER_NAME} RateLimiterMemory`,
        value: figures.peer,
      }),
    );
    await ours.close();
  }
  return results;
}

/** Runs `concurrency` workers, each awaiting one decision at a time, for about durationMs. */
async function closedLoop(
  decide: (key: string) => Promise<unknown>,
  keys: readonly string[],
  concurrency: number,
  durationMs: number,
): Promise<number> {
  let done = 0;
  let cursor = 0;
  const end = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const key = keys[cursor]!;
        cursor = cursor + 1 === keys.length ? 0 : cursor + 1;
        await decide(key);
        done++;
      }
    }),
  );
  return (done * 1000) / (performance.now() - started);
}

async function redisResults(
  context: BenchContext,
  durationMs: number,
  rounds: number,
): Promise<BenchResult[]> {
  const server = await startRedisServer();
  const oursClient = new Redis({ port: server.port, host: "127.0.0.1" });
  const peerClient = new Redis({ port: server.port, host: "127.0.0.1" });
  const oursCommands = countCommands(oursClient);
  const peerCommands = countCommands(peerClient);
  const results: BenchResult[] = [];
  try {
    const store = new RedisStore({ client: oursClient, prefix: "bench:" });
    await store.loadScripts();
    const policy = compilePolicy({
      algorithm: "fixed_window",
      limit: POINTS,
      periodMs: WINDOW_SECONDS * 1000,
    });
    const theirs = new peer.RateLimiterRedis({
      storeClient: peerClient,
      points: POINTS,
      duration: WINDOW_SECONDS,
      keyPrefix: "rlf",
    });
    const keys = makeKeySequence(KEY_COUNT, 100_000, 11);
    // Warm both sides (script loading, connection) outside the measured rounds.
    await store.decide("warm", policy, 1);
    await theirs.consume("warm", 1);
    for (const concurrency of [1, 50]) {
      let oursDecisions = 0;
      let peerDecisions = 0;
      const oursCommandsBefore = oursCommands.count();
      const peerCommandsBefore = peerCommands.count();
      const figures = await alternate({
        rounds,
        ours: () =>
          closedLoop(
            (key) => {
              oursDecisions++;
              return store.decide(key, policy, 1);
            },
            keys,
            concurrency,
            durationMs,
          ),
        peer: () =>
          closedLoop(
            (key) => {
              peerDecisions++;
              return theirs.consume(key, 1);
            },
            keys,
            concurrency,
            durationMs,
          ),
        onRound: (round, o, p) =>
          context.progress(
            `redis c=${concurrency} round ${round}: ours ${Math.round(o)}/s, peer ${Math.round(p)}/s`,
          ),
      });
      const oursTrips = (oursCommands.count() - oursCommandsBefore) / oursDecisions;
      const peerTrips = (peerCommands.count() - peerCommandsBefore) / peerDecisions;
      results.push(
        result(
          `redis fixed window, 10 000 keys, concurrency ${concurrency}`,
          "decisions/s",
          figures.ours,
          { name: `${PEER_NAME} RateLimiterRedis (ioredis)`, value: figures.peer },
          {
            oursRoundTripsPerDecision: Math.round(oursTrips * 1000) / 1000,
            peerRoundTripsPerDecision: Math.round(peerTrips * 1000) / 1000,
          },
        ),
      );
    }
  } finally {
    oursClient.disconnect();
    peerClient.disconnect();
    await server.stop();
  }
  return results;
}

export interface RecordedRequest {
  client: number;
  atMs: number;
}

/** A client population: `share` of the clients send at a rate log-uniform between the bounds (x limit). */
export interface ClientMix {
  share: number;
  rateLow: number;
  rateHigh: number;
}

/** Most clients well under the limit, a few abusers far over it (the shape of real traffic). */
export const TYPICAL_MIX: ClientMix[] = [
  { share: 0.98, rateLow: 0.01, rateHigh: 0.5 },
  { share: 0.02, rateLow: 2, rateHigh: 10 },
];
/** Every client hovering around the limit: the worst case for the approximation. */
export const NEAR_LIMIT_MIX: ClientMix[] = [{ share: 1, rateLow: 0.5, rateHigh: 2 }];

/** Records a random workload: Poisson arrivals per client over `periods` windows. */
export function recordWorkload(
  clients: number,
  mix: readonly ClientMix[],
  limit: number,
  periodMs: number,
  periods: number,
  seed: number,
): RecordedRequest[] {
  const random = seededRandom(seed);
  const requests: RecordedRequest[] = [];
  for (let client = 0; client < clients; client++) {
    const pick = random();
    let cumulative = 0;
    let group = mix[mix.length - 1]!;
    for (const candidate of mix) {
      cumulative += candidate.share;
      if (cumulative >= pick) {
        group = candidate;
        break;
      }
    }
    const multiple = group.rateLow * (group.rateHigh / group.rateLow) ** random();
    const ratePerMs = (limit / periodMs) * multiple;
    let atMs = 1_700_000_000_000 + Math.floor(random() * periodMs);
    const endMs = atMs + periods * periodMs;
    for (;;) {
      atMs += Math.max(0, Math.round(-Math.log(1 - random()) / ratePerMs));
      if (atMs >= endMs) break;
      requests.push({ client, atMs });
    }
  }
  return requests.sort((a, b) => a.atMs - b.atMs || a.client - b.client);
}

/** Replays one workload through the counter and the log; counts decisions that differ. */
export function slidingCounterErrors(
  requests: readonly RecordedRequest[],
  policyLog: CompiledPolicy,
  policyCounter: CompiledPolicy,
) {
  const logStates = new Map<number, unknown>();
  const counterStates = new Map<number, unknown>();
  let wronglyAllowed = 0;
  let wronglyDenied = 0;
  for (const { client, atMs } of requests) {
    const exact = ALGORITHM_BY_NAME.sliding_window_log.decide(
      policyLog,
      logStates.get(client),
      atMs,
      1,
    );
    logStates.set(client, exact.state);
    const approx = ALGORITHM_BY_NAME.sliding_window_counter.decide(
      policyCounter,
      counterStates.get(client),
      atMs,
      1,
    );
    counterStates.set(client, approx.state);
    if (approx.decision.allowed && !exact.decision.allowed) wronglyAllowed++;
    if (!approx.decision.allowed && exact.decision.allowed) wronglyDenied++;
  }
  return { wronglyAllowed, wronglyDenied, total: requests.length };
}

/**
 * Cloudflare's measurement: every request counts (blocked ones too), and a
 * decision is "over the limit" when the rate over the last period exceeds
 * it. Compares the counter's estimate with the exact count, request by request.
 */
export function attemptRateErrors(
  requests: readonly RecordedRequest[],
  limit: number,
  periodMs: number,
) {
  const logs = new Map<number, number[]>();
  const windows = new Map<number, { start: number; current: number; previous: number }>();
  let wronglyAllowed = 0;
  let wronglyDenied = 0;
  for (const { client, atMs } of requests) {
    let log = logs.get(client);
    if (log === undefined) {
      log = [];
      logs.set(client, log);
    }
    log.push(atMs);
    let head = 0;
    while (log[head]! <= atMs - periodMs) head++;
    if (head > 0) log.splice(0, head);
    const start = atMs - (atMs % periodMs);
    let w = windows.get(client);
    if (w === undefined) {
      w = { start, current: 0, previous: 0 };
      windows.set(client, w);
    }
    if (w.start !== start) {
      w.previous = w.start === start - periodMs ? w.current : 0;
      w.current = 0;
      w.start = start;
    }
    w.current++;
    const exactOver = log.length > limit;
    const estimateOver =
      w.previous * (periodMs - (atMs - start)) + w.current * periodMs > limit * periodMs;
    if (exactOver && !estimateOver) wronglyAllowed++;
    if (!exactOver && estimateOver) wronglyDenied++;
  }
  return { wronglyAllowed, wronglyDenied, total: requests.length };
}

function errorRateResults(context: BenchContext, quick: boolean): BenchResult[] {
  const limit = 100;
  const periodMs = 60_000;
  const results: BenchResult[] = [];
  for (const [label, mix, clients] of [
    [
      "typical traffic (98 % of clients under half the limit, 2 % at 2-10x)",
      TYPICAL_MIX,
      quick ? 2000 : 10_000,
    ],
    ["every client at 0.5-2x the limit", NEAR_LIMIT_MIX, quick ? 200 : 1000],
  ] as const) {
    const requests = recordWorkload(clients, mix, limit, periodMs, 10, 42);
    context.progress(`sliding window counter vs log, ${label}: ${requests.length} requests`);
    const { wronglyAllowed, wronglyDenied, total } = slidingCounterErrors(
      requests,
      compilePolicy({ algorithm: "sliding_window_log", limit, periodMs }),
      compilePolicy({ algorithm: "sliding_window_counter", limit, periodMs }),
    );
    const attempts = attemptRateErrors(requests, limit, periodMs);
    results.push(
      result(
        `sliding window counter wrong decisions vs exact log, ${label}, every request counted (Cloudflare's method)`,
        "%",
        ((attempts.wronglyAllowed + attempts.wronglyDenied) / attempts.total) * 100,
        null,
        {
          requests: total,
          clients,
          limitPerMinute: limit,
          wronglyAllowed: attempts.wronglyAllowed,
          wronglyDenied: attempts.wronglyDenied,
          cloudflareQuotedPercent: 0.003,
        },
      ),
      result(
        `sliding window counter decisions differing from exact log, ${label}, admitted requests counted`,
        "%",
        ((wronglyAllowed + wronglyDenied) / total) * 100,
        null,
        {
          wronglyAllowed,
          wronglyDenied,
          why: "over-limit clients get different requests through, at the same rate",
        },
      ),
    );
  }
  return results;
}

/** The library half of the suite; the service half adds its own results. */
export async function libraryResults(context: BenchContext): Promise<BenchResult[]> {
  // Many short alternating rounds: on a shared machine a burst of someone else's
  // work then lands on both sides instead of on one side's whole measurement.
  const durationMs = context.quick ? 200 : 400;
  const rounds = context.quick ? 5 : 17;
  const results: BenchResult[] = [];
  if (context.includes("memory"))
    results.push(...(await memoryResults(context, durationMs, rounds)));
  if (context.includes("redis")) results.push(...(await redisResults(context, durationMs, rounds)));
  if (context.includes("error-rate")) results.push(...errorRateResults(context, context.quick));
  return results;
}

export default defineSuite({
  name: "ratelimit",
  description:
    "Rate limiter decisions/s in memory and through Redis vs rate-limiter-flexible; sliding window counter error rate.",
  // `npm run bench -- ratelimit --only redis` runs one part.
  parts: ["memory", "redis", "error-rate", "service"],
  async run(context) {
    return [
      ...(await libraryResults(context)),
      ...(context.includes("service") ? await serviceResults(context) : []),
    ];
  },
});
