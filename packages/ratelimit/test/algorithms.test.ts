/**
 * Properties of the pure algorithms, checked with fast-check on random
 * traffic against an injected clock.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ALGORITHM_BY_NAME } from "../src/algorithms/index.js";
import type { Decision } from "../src/decision.js";
import { type AlgorithmName, compilePolicy, type Policy } from "../src/policy.js";

interface Admission {
  atMs: number;
  cost: number;
}

/** Replays traffic through one algorithm; returns admissions and all decisions. */
function replay(policy: Policy, traffic: readonly { atMs: number; cost: number }[]) {
  const compiled = compilePolicy(policy);
  const algorithm = ALGORITHM_BY_NAME[policy.algorithm];
  let state: unknown;
  const admitted: Admission[] = [];
  const decisions: Decision[] = [];
  for (const request of traffic) {
    const step = algorithm.decide(compiled, state, request.atMs, request.cost);
    state = step.state;
    decisions.push(step.decision);
    if (step.decision.allowed)
      admitted.push({ atMs: request.atMs + step.decision.delayMs, cost: request.cost });
  }
  return { admitted, decisions };
}

/** Random traffic: increasing integer times, weights 1..3, bursts allowed (gap 0). */
const trafficArbitrary = fc
  .array(
    fc.record({ gapMs: fc.integer({ min: 0, max: 400 }), cost: fc.integer({ min: 1, max: 3 }) }),
    {
      minLength: 1,
      maxLength: 150,
    },
  )
  .map((items) => {
    let atMs = 5_000_000;
    return items.map(({ gapMs, cost }) => {
      atMs += gapMs;
      return { atMs, cost };
    });
  });

/** Largest total cost admitted in any half-open interval [t, t + lengthMs). */
function maxInInterval(admitted: readonly Admission[], lengthMs: number): number {
  let best = 0;
  let sum = 0;
  let left = 0;
  for (let right = 0; right < admitted.length; right++) {
    sum += admitted[right]!.cost;
    while (admitted[left]!.atMs <= admitted[right]!.atMs - lengthMs) sum -= admitted[left++]!.cost;
    best = Math.max(best, sum);
  }
  return best;
}

const limitArbitrary = fc.integer({ min: 1, max: 20 });
const periodArbitrary = fc.constantFrom(1000, 1200, 3000);

describe("exact algorithms never admit more than the limit", () => {
  it("sliding window log: at most `limit` in every rolling window", () => {
    fc.assert(
      fc.property(limitArbitrary, periodArbitrary, trafficArbitrary, (limit, periodMs, traffic) => {
        const { admitted } = replay({ algorithm: "sliding_window_log", limit, periodMs }, traffic);
        expect(maxInInterval(admitted, periodMs)).toBeLessThanOrEqual(limit);
      }),
      { numRuns: 300 },
    );
  });

  it("fixed window: at most `limit` per aligned window, at most 2 x limit in any rolling window", () => {
    fc.assert(
      fc.property(limitArbitrary, periodArbitrary, trafficArbitrary, (limit, periodMs, traffic) => {
        const { admitted } = replay({ algorithm: "fixed_window", limit, periodMs }, traffic);
        const perWindow = new Map<number, number>();
        for (const a of admitted) {
          const w = a.atMs - (a.atMs % periodMs);
          perWindow.set(w, (perWindow.get(w) ?? 0) + a.cost);
        }
        for (const total of perWindow.values()) expect(total).toBeLessThanOrEqual(limit);
        expect(maxInInterval(admitted, periodMs)).toBeLessThanOrEqual(2 * limit);
      }),
      { numRuns: 300 },
    );
  });

  it.each<AlgorithmName>(["token_bucket", "gcra", "leaking_bucket"])(
    "%s: at most burst + rate x d in any interval of length d",
    (algorithm) => {
      fc.assert(
        fc.property(
          limitArbitrary,
          fc.constantFrom(1000, 2000),
          fc.integer({ min: 1, max: 10 }),
          trafficArbitrary,
          fc.constantFrom(1, 100, 500, 1000, 2500),
          (limit, periodMs, burst, traffic, lengthMs) => {
            const { admitted } = replay({ algorithm, limit, periodMs, burst }, traffic);
            const bound = burst + Math.ceil((limit * lengthMs) / periodMs);
            expect(maxInInterval(admitted, lengthMs)).toBeLessThanOrEqual(bound);
          },
        ),
        { numRuns: 200 },
      );
    },
  );

  it("leaking bucket in queue mode: admitted requests leave at the constant rate, waits bounded", () => {
    fc.assert(
      fc.property(
        limitArbitrary,
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 5000 }),
        trafficArbitrary.map((t) => t.map((r) => ({ ...r, cost: 1 }))),
        (limit, burst, maxWaitMs, traffic) => {
          const periodMs = 1000;
          const policy: Policy = {
            algorithm: "leaking_bucket",
            limit,
            periodMs,
            burst,
            leakMode: "queue",
            maxWaitMs,
          };
          const { admitted, decisions } = replay(policy, traffic);
          for (const d of decisions) expect(d.delayMs).toBeLessThanOrEqual(maxWaitMs);
          // Departures (arrival + delay) are spaced by at least one emission interval.
          const departures = admitted.map((a) => a.atMs).sort((a, b) => a - b);
          for (let i = 1; i < departures.length; i++) {
            expect(departures[i]! - departures[i - 1]!).toBeGreaterThanOrEqual(
              Math.floor(periodMs / limit),
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("token bucket shape", () => {
  it("admits exactly the burst at once, then exactly the refill rate", () => {
    // Burst >= 2: with a bucket of one token, a token that refills between two
    // millisecond arrivals overflows; that is the algorithm, not a counting error.
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 50 }),
        fc.integer({ min: 1, max: 50 }),
        (burst, perSecond) => {
          const periodMs = 1000;
          const policy = compilePolicy({
            algorithm: "token_bucket",
            limit: perSecond,
            periodMs,
            burst,
          });
          let state: unknown;
          const t0 = 1_000_000;
          let admittedAtOnce = 0;
          for (let i = 0; i < burst + 10; i++) {
            const step = ALGORITHM_BY_NAME.token_bucket.decide(policy, state, t0, 1);
            state = step.state;
            if (step.decision.allowed) admittedAtOnce++;
          }
          expect(admittedAtOnce).toBe(burst);
          // Ten seconds of requests every millisecond: one admission per token refilled.
          let admittedLater = 0;
          for (let t = t0 + 1; t <= t0 + 10 * periodMs; t++) {
            const step = ALGORITHM_BY_NAME.token_bucket.decide(policy, state, t, 1);
            state = step.state;
            if (step.decision.allowed) admittedLater++;
          }
          expect(admittedLater).toBe(10 * perSecond);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("a denied request's retryAfterMs is exact: admitted then, not a millisecond earlier", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<AlgorithmName>(
          "token_bucket",
          "gcra",
          "leaking_bucket",
          "sliding_window_log",
          "fixed_window",
        ),
        limitArbitrary,
        trafficArbitrary,
        (algorithm, limit, traffic) => {
          const policy = compilePolicy({ algorithm, limit, periodMs: 1000 });
          const impl = ALGORITHM_BY_NAME[algorithm];
          let state: unknown;
          for (const { atMs, cost } of traffic) {
            const step = impl.decide(policy, state, atMs, cost);
            if (!step.decision.allowed && step.decision.retryAfterMs > 0) {
              const retry = step.decision.retryAfterMs;
              // Decisions are pure: probing the future from the same state changes nothing.
              expect(
                impl.decide(policy, structuredClone(step.state), atMs + retry, cost).decision
                  .allowed,
              ).toBe(true);
              if (retry > 1) {
                expect(
                  impl.decide(policy, structuredClone(step.state), atMs + retry - 1, cost).decision
                    .allowed,
                ).toBe(false);
              }
            }
            state = step.state;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("sliding window counter against the exact log", () => {
  it("never admits more than the limit inside one aligned window, and rarely disagrees with the log", () => {
    let decisions = 0;
    let disagreements = 0;
    fc.assert(
      fc.property(limitArbitrary, trafficArbitrary, (limit, traffic) => {
        const periodMs = 1000;
        const counter = replay({ algorithm: "sliding_window_counter", limit, periodMs }, traffic);
        const perWindow = new Map<number, number>();
        for (const a of counter.admitted) {
          const w = a.atMs - (a.atMs % periodMs);
          perWindow.set(w, (perWindow.get(w) ?? 0) + a.cost);
        }
        for (const total of perWindow.values()) expect(total).toBeLessThanOrEqual(limit);
        // Same traffic, each side fed its own admissions: compare decision by decision.
        const log = replay({ algorithm: "sliding_window_log", limit, periodMs }, traffic);
        decisions += traffic.length;
        for (let i = 0; i < traffic.length; i++) {
          if (counter.decisions[i]!.allowed !== log.decisions[i]!.allowed) disagreements++;
        }
      }),
      { numRuns: 300 },
    );
    // Adversarial random bursts, far from Cloudflare's smooth traffic: still mostly right.
    expect(disagreements / decisions).toBeLessThan(0.25);
  });
});

describe("policy validation", () => {
  it("rejects bad policies with SCALEOUT_RL_INVALID_POLICY", () => {
    const bad: Policy[] = [
      { algorithm: "token_bucket", limit: -1, periodMs: 1000 },
      { algorithm: "token_bucket", limit: 1.5, periodMs: 1000 },
      { algorithm: "fixed_window", limit: 1, periodMs: 0 },
      { algorithm: "fixed_window", limit: 1, periodMs: 1000, burst: 3 },
      { algorithm: "token_bucket", limit: 1, periodMs: 1000, leakMode: "queue" },
      { algorithm: "nope" as AlgorithmName, limit: 1, periodMs: 1000 },
      { algorithm: "sliding_window_log", limit: 2 ** 40, periodMs: 365 * 86_400_000 },
    ];
    for (const policy of bad) {
      expect(() => compilePolicy(policy)).toThrow(
        expect.objectContaining({ code: "SCALEOUT_RL_INVALID_POLICY" }),
      );
    }
  });
});
