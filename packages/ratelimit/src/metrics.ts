/**
 * Prometheus metrics shared by the limiter, the middleware and the service.
 * Labels are bounded: domain and rule names come from configuration, never
 * from request values.
 */
import { Counter, Histogram, type Registry } from "prom-client";

interface RuleCounters {
  hits: { inc(value?: number): void };
  overLimit: { inc(value?: number): void };
  nearLimit: { inc(value?: number): void };
  shadowMode: { inc(value?: number): void };
}

/** Requests reach this share of the limit: reported as "near limit" (envoy uses 80 %). */
export const NEAR_LIMIT_RATIO = 0.8;

export class RateLimitMetrics {
  readonly hits: Counter<"domain" | "rule">;
  readonly overLimit: Counter<"domain" | "rule">;
  readonly nearLimit: Counter<"domain" | "rule">;
  readonly shadowMode: Counter<"domain" | "rule">;
  readonly storeErrors: Counter<"store" | "reason" | "outcome">;
  readonly decisionSeconds: Histogram<"store">;

  constructor(registry: Registry, prefix = "scaleout_ratelimit_") {
    const registers = [registry];
    this.hits = new Counter({
      name: `${prefix}hits_total`,
      help: "Hits counted against a rule (a request of cost n adds n).",
      labelNames: ["domain", "rule"],
      registers,
    });
    this.overLimit = new Counter({
      name: `${prefix}over_limit_total`,
      help: "Hits denied because the rule's limit was reached.",
      labelNames: ["domain", "rule"],
      registers,
    });
    this.nearLimit = new Counter({
      name: `${prefix}near_limit_total`,
      help: `Admitted hits that took usage past ${NEAR_LIMIT_RATIO * 100} % of the limit.`,
      labelNames: ["domain", "rule"],
      registers,
    });
    this.shadowMode = new Counter({
      name: `${prefix}shadow_mode_total`,
      help: "Over-limit hits let through because the rule is in shadow mode.",
      labelNames: ["domain", "rule"],
      registers,
    });
    this.storeErrors = new Counter({
      name: `${prefix}store_errors_total`,
      help: "Store calls that failed or timed out, by how the decision was made instead.",
      labelNames: ["store", "reason", "outcome"],
      registers,
    });
    this.decisionSeconds = new Histogram({
      name: `${prefix}decision_seconds`,
      help: "Time to reach a decision, store round trip included.",
      labelNames: ["store"],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    });
  }

  private readonly children = new Map<string, RuleCounters>();

  /** Labelled children are looked up once per rule: hashing labels on every hit is measurable. */
  private countersFor(domain: string, rule: string): RuleCounters {
    const id = `${domain}\u0000${rule}`;
    let counters = this.children.get(id);
    if (counters === undefined) {
      const labels = { domain, rule };
      counters = {
        hits: this.hits.labels(labels),
        overLimit: this.overLimit.labels(labels),
        nearLimit: this.nearLimit.labels(labels),
        shadowMode: this.shadowMode.labels(labels),
      };
      this.children.set(id, counters);
    }
    return counters;
  }

  /** Counts one decision against a rule. */
  record(
    domain: string,
    rule: string,
    cost: number,
    decision: { allowed: boolean; limit: number; remaining: number },
    shadow: boolean,
  ): void {
    const counters = this.countersFor(domain, rule);
    counters.hits.inc(cost);
    if (!decision.allowed) {
      counters.overLimit.inc(cost);
      if (shadow) counters.shadowMode.inc(cost);
    } else if (
      decision.limit > 0 &&
      decision.limit - decision.remaining > NEAR_LIMIT_RATIO * decision.limit
    ) {
      counters.nearLimit.inc(cost);
    }
  }
}
