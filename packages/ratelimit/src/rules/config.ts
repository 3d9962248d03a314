/**
 * Loads rate limit rules written in envoy's ratelimit YAML format (one domain
 * per file), so existing configs work unchanged:
 *
 *   domain: <unique domain>
 *   descriptors:
 *     - key: <required>
 *       value: <optional; "prefix*" is a wildcard>
 *       rate_limit:                      # optional
 *         unit: second|minute|hour|day|month|year
 *         requests_per_unit: <uint>
 *         unlimited: <bool>              # instead of unit/requests_per_unit
 *         name: <optional>
 *         replaces: [{name: <name>}]     # optional
 *         # scaleout extensions (envoy's service would reject these keys):
 *         algorithm: fixed_window|token_bucket|leaking_bucket|sliding_window_log|sliding_window_counter|gcra
 *         burst: <uint>                  # token_bucket, leaking_bucket, gcra
 *         leak_mode: reject|queue        # leaking_bucket
 *         max_wait_ms: <uint>            # leaking_bucket queue mode
 *       shadow_mode: <bool>
 *       detailed_metric: <bool>
 *       descriptors: [...]               # nested, same shape
 *
 * Every problem is reported as `<file>:<line>:<column>: <path>: <problem>`.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";
import { RateLimitError } from "../errors.js";
import {
  ALGORITHMS,
  type AlgorithmName,
  type CompiledPolicy,
  compilePolicy,
  type Policy,
} from "../policy.js";
import { parseUnit, type RateLimitUnit, UNIT_MS, UNITS } from "./units.js";

/** Envoy's default: a fixed window per unit. Our extension field can pick another algorithm. */
export const RULE_ALGORITHM_DEFAULT: AlgorithmName = "fixed_window";
/** Limits on a rules file: it is configuration, but a runaway file must not exhaust memory. */
export const RULES_FILE_BYTES_MAX = 16 * 1024 * 1024;
export const DESCRIPTOR_DEPTH_MAX = 16;

export interface RateLimitRule {
  /** rate_limit.name, or a name derived from the descriptor path. */
  name: string;
  /** True when the YAML gave the name (only explicit names take part in `replaces`). */
  named: boolean;
  unit: RateLimitUnit | undefined;
  requestsPerUnit: number;
  unlimited: boolean;
  replaces: string[];
  shadowMode: boolean;
  detailedMetric: boolean;
  /** undefined for unlimited rules. */
  policy: CompiledPolicy | undefined;
  /** The rule's place in its file, e.g. "messaging: message_type=marketing > to_number". */
  path: string;
}

export interface DescriptorNode {
  key: string;
  /** undefined: matches any value of the key. */
  value: string | undefined;
  rule: RateLimitRule | undefined;
  children: DescriptorLevel;
}

export interface DescriptorLevel {
  /** `${key}_${value}` → node, as envoy keys them. */
  exact: Map<string, DescriptorNode>;
  /** Wildcard values ("prefix*") in file order. */
  wildcards: DescriptorNode[];
  /** key → node for descriptors without a value. */
  keyOnly: Map<string, DescriptorNode>;
}

export interface DomainRules {
  domain: string;
  file: string;
  root: DescriptorLevel;
  rules: RateLimitRule[];
}

const DOMAIN_KEYS = new Set(["domain", "descriptors"]);
const DESCRIPTOR_KEYS = new Set([
  "key",
  "value",
  "rate_limit",
  "shadow_mode",
  "detailed_metric",
  "descriptors",
]);
const RATE_LIMIT_KEYS = new Set([
  "unit",
  "requests_per_unit",
  "unlimited",
  "name",
  "replaces",
  "algorithm",
  "burst",
  "leak_mode",
  "max_wait_ms",
]);
const UINT32_MAX = 4_294_967_295;

export function emptyLevel(): DescriptorLevel {
  return { exact: new Map(), wildcards: [], keyOnly: new Map() };
}

class Reader {
  private readonly lines = new LineCounter();
  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  parse(): Node | null {
    const doc = parseDocument(this.text, { lineCounter: this.lines, uniqueKeys: true });
    const first = doc.errors[0];
    if (first !== undefined) {
      const pos = first.linePos?.[0];
      const where = pos === undefined ? this.file : `${this.file}:${pos.line}:${pos.col}`;
      throw new RateLimitError(
        "SCALEOUT_RL_RULES_INVALID",
        `${where}: ${first.message.split("\n")[0]}`,
      );
    }
    return doc.contents as Node | null;
  }

  fail(node: Node | null | undefined, path: string, problem: string): never {
    let where = this.file;
    const offset = node?.range?.[0];
    if (offset !== undefined) {
      const pos = this.lines.linePos(offset);
      where = `${this.file}:${pos.line}:${pos.col}`;
    }
    throw new RateLimitError(
      "SCALEOUT_RL_RULES_INVALID",
      `${where}: ${path === "" ? "(top)" : path}: ${problem}`,
    );
  }

  map(node: Node | null | undefined, path: string, allowed: Set<string>): Map<string, Node | null> {
    if (!isMap(node)) this.fail(node, path, "expected a mapping");
    const out = new Map<string, Node | null>();
    for (const pair of (node as YAMLMap<unknown, unknown>).items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
      if (key === undefined) this.fail(keyNode, path, "keys must be plain strings");
      if (!allowed.has(key)) {
        this.fail(
          keyNode,
          join(path, key),
          `unknown key "${key}" (allowed: ${[...allowed].join(", ")})`,
        );
      }
      out.set(key, pair.value as Node | null);
    }
    return out;
  }

  string(node: Node | null | undefined, path: string): string {
    if (!isScalar(node) || (typeof node.value !== "string" && typeof node.value !== "number")) {
      this.fail(node, path, "expected a string");
    }
    return String(node.value);
  }

  bool(node: Node | null | undefined, path: string): boolean {
    if (!isScalar(node) || typeof node.value !== "boolean")
      this.fail(node, path, "expected true or false");
    return node.value;
  }

  uint(node: Node | null | undefined, path: string, max = UINT32_MAX): number {
    if (
      !isScalar(node) ||
      typeof node.value !== "number" ||
      !Number.isInteger(node.value) ||
      node.value < 0
    ) {
      this.fail(node, path, "expected a whole number >= 0");
    }
    if (node.value > max) this.fail(node, path, `must be at most ${max}`);
    return node.value;
  }
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** Parses one envoy ratelimit YAML document. `file` names the source in errors. */
export function parseRules(text: string, file: string): DomainRules {
  if (text.length > RULES_FILE_BYTES_MAX) {
    throw new RateLimitError(
      "SCALEOUT_RL_RULES_INVALID",
      `${file}: larger than ${RULES_FILE_BYTES_MAX} bytes`,
    );
  }
  const reader = new Reader(file, text);
  const top = reader.parse();
  if (top === null) reader.fail(null, "", "the file is empty: a domain is required");
  const fields = reader.map(top, "", DOMAIN_KEYS);
  if (!fields.has("domain")) reader.fail(top, "domain", "missing: every rules file needs a domain");
  const domain = reader.string(fields.get("domain"), "domain");
  if (domain === "") reader.fail(fields.get("domain"), "domain", "must not be empty");
  const rules: RateLimitRule[] = [];
  const root = emptyLevel();
  const descriptors = fields.get("descriptors");
  if (descriptors !== undefined && descriptors !== null) {
    readLevel(reader, descriptors, "descriptors", domain, [], root, rules, 1);
  }
  return { domain, file, root, rules };
}

function readLevel(
  reader: Reader,
  node: Node,
  path: string,
  domain: string,
  trail: string[],
  level: DescriptorLevel,
  rules: RateLimitRule[],
  depth: number,
): void {
  if (!isSeq(node)) reader.fail(node, path, "expected a list of descriptors");
  if (depth > DESCRIPTOR_DEPTH_MAX)
    reader.fail(node, path, `descriptors nest deeper than ${DESCRIPTOR_DEPTH_MAX}`);
  node.items.forEach((item, index) => {
    const itemPath = `${path}[${index}]`;
    const fields = reader.map(item as Node, itemPath, DESCRIPTOR_KEYS);
    if (!fields.has("key"))
      reader.fail(item as Node, `${itemPath}.key`, "missing: every descriptor needs a key");
    const key = reader.string(fields.get("key"), `${itemPath}.key`);
    if (key === "") reader.fail(fields.get("key"), `${itemPath}.key`, "must not be empty");
    const valueNode = fields.get("value");
    const value =
      valueNode === undefined || valueNode === null
        ? undefined
        : reader.string(valueNode, `${itemPath}.value`);
    const compositeKey = value === undefined ? key : `${key}_${value}`;
    const duplicate =
      value === undefined
        ? level.keyOnly.has(key)
        : level.exact.has(compositeKey) ||
          level.wildcards.some((w) => `${w.key}_${w.value}` === compositeKey);
    if (duplicate)
      reader.fail(item as Node, itemPath, `duplicate descriptor "${compositeKey}" at this level`);
    const here = [...trail, value === undefined ? key : `${key}=${value}`];
    const shadowMode = fields.has("shadow_mode")
      ? reader.bool(fields.get("shadow_mode"), `${itemPath}.shadow_mode`)
      : false;
    const detailedMetric = fields.has("detailed_metric")
      ? reader.bool(fields.get("detailed_metric"), `${itemPath}.detailed_metric`)
      : false;
    let rule: RateLimitRule | undefined;
    const rateLimit = fields.get("rate_limit");
    if (rateLimit !== undefined && rateLimit !== null) {
      rule = readRateLimit(
        reader,
        rateLimit,
        `${itemPath}.rate_limit`,
        `${domain}: ${here.join(" > ")}`,
      );
      rule.shadowMode = shadowMode;
      rule.detailedMetric = detailedMetric;
      rules.push(rule);
    }
    const node: DescriptorNode = { key, value, rule, children: emptyLevel() };
    const nested = fields.get("descriptors");
    if (nested !== undefined && nested !== null) {
      readLevel(
        reader,
        nested,
        `${itemPath}.descriptors`,
        domain,
        here,
        node.children,
        rules,
        depth + 1,
      );
    }
    if (value === undefined) level.keyOnly.set(key, node);
    else if (value.endsWith("*")) level.wildcards.push(node);
    else level.exact.set(compositeKey, node);
  });
}

function readRateLimit(reader: Reader, node: Node, path: string, rulePath: string): RateLimitRule {
  const fields = reader.map(node, path, RATE_LIMIT_KEYS);
  const unlimited = fields.has("unlimited")
    ? reader.bool(fields.get("unlimited"), `${path}.unlimited`)
    : false;
  const explicitName = fields.has("name")
    ? reader.string(fields.get("name"), `${path}.name`)
    : undefined;
  const replaces: string[] = [];
  const replacesNode = fields.get("replaces");
  if (replacesNode !== undefined && replacesNode !== null) {
    if (!isSeq(replacesNode))
      reader.fail(replacesNode, `${path}.replaces`, "expected a list of {name: ...}");
    replacesNode.items.forEach((item, index) => {
      const entry = reader.map(item as Node, `${path}.replaces[${index}]`, new Set(["name"]));
      if (!entry.has("name"))
        reader.fail(item as Node, `${path}.replaces[${index}].name`, "missing");
      replaces.push(reader.string(entry.get("name"), `${path}.replaces[${index}].name`));
    });
  }
  const rule: RateLimitRule = {
    name: explicitName ?? rulePath,
    named: explicitName !== undefined,
    unit: undefined,
    requestsPerUnit: 0,
    unlimited,
    replaces,
    shadowMode: false,
    detailedMetric: false,
    policy: undefined,
    path: rulePath,
  };
  if (unlimited) {
    for (const field of [
      "unit",
      "requests_per_unit",
      "algorithm",
      "burst",
      "leak_mode",
      "max_wait_ms",
    ]) {
      if (fields.has(field))
        reader.fail(
          fields.get(field),
          `${path}.${field}`,
          "must not be set when unlimited is true",
        );
    }
    return rule;
  }
  if (!fields.has("unit"))
    reader.fail(node, `${path}.unit`, `missing (one of ${UNITS.join(", ")})`);
  const rawUnit = reader.string(fields.get("unit"), `${path}.unit`);
  const unit = parseUnit(rawUnit);
  if (unit === undefined)
    reader.fail(
      fields.get("unit"),
      `${path}.unit`,
      `"${rawUnit}" is not one of ${UNITS.join(", ")}`,
    );
  if (!fields.has("requests_per_unit")) reader.fail(node, `${path}.requests_per_unit`, "missing");
  const requestsPerUnit = reader.uint(fields.get("requests_per_unit"), `${path}.requests_per_unit`);
  let algorithm = RULE_ALGORITHM_DEFAULT;
  if (fields.has("algorithm")) {
    const raw = reader.string(fields.get("algorithm"), `${path}.algorithm`);
    if (!(ALGORITHMS as readonly string[]).includes(raw)) {
      reader.fail(
        fields.get("algorithm"),
        `${path}.algorithm`,
        `"${raw}" is not one of ${ALGORITHMS.join(", ")}`,
      );
    }
    algorithm = raw as AlgorithmName;
  }
  const policy: Policy = { algorithm, limit: requestsPerUnit, periodMs: UNIT_MS[unit] };
  if (fields.has("burst")) policy.burst = reader.uint(fields.get("burst"), `${path}.burst`);
  if (fields.has("leak_mode")) {
    const raw = reader.string(fields.get("leak_mode"), `${path}.leak_mode`);
    if (raw !== "reject" && raw !== "queue")
      reader.fail(fields.get("leak_mode"), `${path}.leak_mode`, `"${raw}" is not reject or queue`);
    policy.leakMode = raw;
  }
  if (fields.has("max_wait_ms"))
    policy.maxWaitMs = reader.uint(fields.get("max_wait_ms"), `${path}.max_wait_ms`);
  try {
    rule.policy = compilePolicy(policy);
  } catch (error) {
    reader.fail(node, path, error instanceof Error ? error.message : String(error));
  }
  rule.unit = unit;
  rule.requestsPerUnit = requestsPerUnit;
  return rule;
}
