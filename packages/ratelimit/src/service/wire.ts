/**
 * Translation between the engine's request/response and the two wire
 * formats: HTTP/JSON (snake_case, like envoy's protobuf JSON) and envoy's
 * RateLimitService proto as loaded by @grpc/proto-loader (keepCase, enums
 * as strings).
 */
import { RateLimitError } from "../errors.js";
import type {
  CheckRequest,
  CheckResponse,
  DescriptorStatus,
  RequestDescriptor,
} from "../rules/engine.js";
import { parseUnit, type RateLimitUnit } from "../rules/units.js";

function bad(detail: string): never {
  throw new RateLimitError("SCALEOUT_RL_REQUEST_INVALID", detail);
}

/** Upper bound of proto uint32 fields. */
const UINT32_MAX = 4_294_967_295;

interface WireDescriptor {
  entries?: unknown;
  limit?: { requests_per_unit?: unknown; unit?: unknown } | null;
}

/** Parses the JSON body of POST /v1/check, or a proto RateLimitRequest object (same field names). */
export function checkRequestFromWire(body: unknown): CheckRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    bad("the body must be a JSON object");
  const { domain, descriptors, hits_addend: hits } = body as Record<string, unknown>;
  if (typeof domain !== "string") bad("domain must be a string");
  if (!Array.isArray(descriptors)) bad("descriptors must be a list");
  const parsed: RequestDescriptor[] = descriptors.map((raw: WireDescriptor, i) => {
    if (typeof raw !== "object" || raw === null) bad(`descriptors[${i}] must be an object`);
    if (!Array.isArray(raw.entries)) bad(`descriptors[${i}].entries must be a list`);
    const entries = raw.entries.map((entry: unknown, j) => {
      const { key, value } = (entry ?? {}) as { key?: unknown; value?: unknown };
      if (typeof key !== "string" || typeof value !== "string")
        bad(`descriptors[${i}].entries[${j}] needs string key and value`);
      return { key, value };
    });
    const descriptor: RequestDescriptor = { entries };
    if (raw.limit !== undefined && raw.limit !== null) {
      const requests = Number(raw.limit.requests_per_unit);
      const unit = typeof raw.limit.unit === "string" ? parseUnit(raw.limit.unit) : undefined;
      if (!Number.isSafeInteger(requests) || requests < 0 || requests > UINT32_MAX)
        bad(`descriptors[${i}].limit.requests_per_unit invalid`);
      if (unit === undefined) bad(`descriptors[${i}].limit.unit invalid`);
      descriptor.limit = { requestsPerUnit: requests, unit };
    }
    return descriptor;
  });
  const request: CheckRequest = { domain, descriptors: parsed };
  if (hits !== undefined && hits !== null) {
    if (typeof hits !== "number") bad("hits_addend must be a number");
    request.hitsAddend = hits;
  }
  return request;
}

export interface WireStatus {
  code: "OK" | "OVER_LIMIT";
  current_limit: { name: string; requests_per_unit: number; unit: string } | null;
  limit_remaining: number;
  duration_until_reset_ms: number;
  retry_after_ms: number;
  shadowed: boolean;
  degraded?: string;
  cached?: boolean;
}

function currentLimit(status: DescriptorStatus): WireStatus["current_limit"] {
  if (status.rule === undefined || status.rule.unlimited || status.rule.unit === undefined)
    return null;
  return {
    name: status.rule.name,
    requests_per_unit: status.rule.requestsPerUnit,
    unit: status.rule.unit.toUpperCase(),
  };
}

export function checkResponseToJson(response: CheckResponse): {
  overall_code: string;
  statuses: WireStatus[];
} {
  return {
    overall_code: response.overallCode,
    statuses: response.statuses.map((status) => {
      const wire: WireStatus = {
        code: status.code,
        current_limit: currentLimit(status),
        limit_remaining: status.limitRemaining,
        duration_until_reset_ms: status.durationUntilResetMs,
        retry_after_ms: status.retryAfterMs,
        shadowed: status.shadowed,
      };
      if (status.degraded !== undefined) wire.degraded = status.degraded;
      if (status.cached === true) wire.cached = true;
      return wire;
    }),
  };
}

/** The proto message, shaped for @grpc/proto-loader with keepCase and enums as strings. */
export function checkResponseToProto(response: CheckResponse): Record<string, unknown> {
  return {
    overall_code: response.overallCode,
    statuses: response.statuses.map((status) => {
      const limit = currentLimit(status);
      const resetMs = Math.max(0, status.durationUntilResetMs);
      return {
        code: status.code,
        current_limit: limit,
        limit_remaining: Math.min(UINT32_MAX, Math.max(0, status.limitRemaining)),
        duration_until_reset: {
          seconds: Math.floor(resetMs / 1000),
          nanos: (resetMs % 1000) * 1_000_000,
        },
      };
    }),
  };
}

/** Proto enum names of type.v3.RateLimitUnit are the upper-case unit names. */
export function unitFromProto(name: string): RateLimitUnit | undefined {
  return parseUnit(name);
}
