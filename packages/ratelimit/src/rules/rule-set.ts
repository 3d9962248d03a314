/**
 * A loaded set of domains and envoy's matching: walk the descriptor's entries
 * level by level, preferring key+value, then a wildcard value, then the key
 * alone; the rule applies only when the last entry lands on a descriptor with
 * a rate_limit (a request with more entries than the config nests matches
 * nothing, as in envoy's README example 4).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { RateLimitError } from "../errors.js";
import type { AlgorithmName } from "../policy.js";
import {
  type DescriptorLevel,
  type DescriptorNode,
  type DomainRules,
  parseRules,
  type RateLimitRule,
} from "./config.js";

export interface DescriptorEntry {
  key: string;
  value: string;
}

export interface RuleSetDescription {
  domain: string;
  file: string;
  rules: (Omit<RateLimitRule, "policy"> & { algorithm: AlgorithmName | undefined })[];
}

export interface RuleMatch {
  rule: RateLimitRule;
  /** The store key: domain plus every entry, so each distinct value gets its own counter. */
  key: string;
}

export class RuleSet {
  readonly domains: ReadonlyMap<string, DomainRules>;

  constructor(domains: readonly DomainRules[]) {
    const byName = new Map<string, DomainRules>();
    for (const domain of domains) {
      const existing = byName.get(domain.domain);
      if (existing !== undefined) {
        throw new RateLimitError(
          "SCALEOUT_RL_RULES_INVALID",
          `${domain.file}: domain "${domain.domain}" is already defined in ${existing.file}`,
        );
      }
      byName.set(domain.domain, domain);
    }
    this.domains = byName;
  }

  static fromYaml(text: string, file = "<inline>"): RuleSet {
    return new RuleSet([parseRules(text, file)]);
  }

  /** The rule for one descriptor, or undefined when none applies. */
  match(domain: string, entries: readonly DescriptorEntry[]): RuleMatch | undefined {
    const config = this.domains.get(domain);
    if (config === undefined || entries.length === 0) return undefined;
    let level: DescriptorLevel = config.root;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const node = findNode(level, entry);
      if (node === undefined) return undefined;
      if (i === entries.length - 1) {
        return node.rule === undefined
          ? undefined
          : { rule: node.rule, key: storeKey(domain, entries) };
      }
      level = node.children;
    }
    return undefined;
  }

  /** A plain-data view for the debug endpoint and `ratelimit check`. */
  describe(): { domain: string; file: string; rules: Omit<RateLimitRule, "policy">[] }[] {
    return [...this.domains.values()].map((d) => ({
      domain: d.domain,
      file: d.file,
      rules: d.rules.map(({ policy: _policy, ...rest }) => ({
        ...rest,
        algorithm: _policy?.algorithm,
      })),
    }));
  }
}

function findNode(level: DescriptorLevel, entry: DescriptorEntry): DescriptorNode | undefined {
  const exact = level.exact.get(`${entry.key}_${entry.value}`);
  if (exact !== undefined) return exact;
  for (const wildcard of level.wildcards) {
    if (wildcard.key === entry.key && entry.value.startsWith(wildcard.value!.slice(0, -1)))
      return wildcard;
  }
  return level.keyOnly.get(entry.key);
}

function storeKey(domain: string, entries: readonly DescriptorEntry[]): string {
  // JSON keeps arbitrary keys and values apart without an escaping scheme of our own.
  return JSON.stringify([domain, ...entries.flatMap((e) => [e.key, e.value])]);
}

const RULE_FILE_EXTENSIONS = new Set([".yaml", ".yml"]);

/** Loads a rules file, or every *.yaml / *.yml file of a directory (one domain each). */
export function loadRuleSet(path: string): RuleSet {
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((name) => RULE_FILE_EXTENSIONS.has(extname(name)) && !name.startsWith("."))
          .sort()
          .map((name) => join(path, name))
      : [path];
  } catch (error) {
    throw new RateLimitError("SCALEOUT_RL_RULES_IO", `${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const domains = files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new RateLimitError("SCALEOUT_RL_RULES_IO", `${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return parseRules(text, file);
  });
  return new RuleSet(domains);
}
