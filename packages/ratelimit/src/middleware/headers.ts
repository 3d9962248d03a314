/**
 * Response headers for a decision: the chapter's X-Ratelimit-* trio, the
 * standard Retry-After, and the IETF RateLimit / RateLimit-Policy fields in
 * the chosen draft of draft-ietf-httpapi-ratelimit-headers:
 *
 *   draft-6  RateLimit-Policy: 100;w=60   RateLimit-Limit/-Remaining/-Reset: 100 / 42 / 17
 *   draft-7  RateLimit-Policy: 100;w=60   RateLimit: limit=100, remaining=42, reset=17
 *   draft-8  RateLimit-Policy: "api";q=100;w=60   RateLimit: "api";r=42;t=17
 */
import type { Decision } from "../decision.js";

export const IETF_DRAFTS = ["draft-6", "draft-7", "draft-8"] as const;
export type IetfDraft = (typeof IETF_DRAFTS)[number];

export interface HeaderOptions {
  /** X-Ratelimit-Limit, -Remaining, -Retry-After. Default true. */
  legacy?: boolean;
  /** IETF fields; false to omit. Default "draft-8". */
  ietf?: IetfDraft | false;
}

const seconds = (ms: number): number => Math.max(0, Math.ceil(ms / 1000));

/** Names are lower case (node normalises them; Fastify and Express accept either). */
export function rateLimitHeaders(
  decision: Decision,
  policy: { periodMs: number; name: string },
  options: HeaderOptions = {},
): Record<string, string> {
  const headers: Record<string, string> = {};
  const retrySeconds = decision.retryAfterMs > 0 ? seconds(decision.retryAfterMs) : undefined;
  if (options.legacy ?? true) {
    headers["x-ratelimit-limit"] = String(decision.limit);
    headers["x-ratelimit-remaining"] = String(decision.remaining);
    if (!decision.allowed && retrySeconds !== undefined)
      headers["x-ratelimit-retry-after"] = String(retrySeconds);
  }
  if (!decision.allowed && retrySeconds !== undefined)
    headers["retry-after"] = String(retrySeconds);
  const draft = options.ietf ?? "draft-8";
  const windowSeconds = seconds(policy.periodMs);
  const resetSeconds = seconds(
    decision.allowed ? decision.resetMs : Math.max(decision.retryAfterMs, 0),
  );
  switch (draft) {
    case false:
      break;
    case "draft-6":
      headers["ratelimit-policy"] = `${decision.limit};w=${windowSeconds}`;
      headers["ratelimit-limit"] = String(decision.limit);
      headers["ratelimit-remaining"] = String(decision.remaining);
      headers["ratelimit-reset"] = String(resetSeconds);
      break;
    case "draft-7":
      headers["ratelimit-policy"] = `${decision.limit};w=${windowSeconds}`;
      headers.ratelimit = `limit=${decision.limit}, remaining=${decision.remaining}, reset=${resetSeconds}`;
      break;
    case "draft-8": {
      const name = JSON.stringify(policy.name);
      headers["ratelimit-policy"] = `${name};q=${decision.limit};w=${windowSeconds}`;
      headers.ratelimit = `${name};r=${decision.remaining};t=${resetSeconds}`;
      break;
    }
  }
  return headers;
}
