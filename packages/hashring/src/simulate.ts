/**
 * The simulation behind `scaleout ring simulate`: place many keys on n nodes
 * and measure how evenly they spread and how many move when a node joins or
 * leaves, for a ring at several virtual-node counts, a bounded-load ring,
 * jump hash or rendezvous hashing.
 *
 * Keys are "key:0" .. "key:<k-1>"; nodes are "node-0" .. "node-<n-1>". The
 * join adds "node-<n>"; the leave removes "node-<n-1>" (the last one, the
 * only node jump hash can remove), so every strategy faces the same change.
 */
import { assertEpsilon, BoundedLoadBalancer } from "./bounded-load.js";
import {
  DEFAULT_EPSILON,
  MAX_SIMULATION_KEYS,
  MAX_SIMULATION_NODES,
  SIMULATION_PROGRESS_EVERY_KEYS as PROGRESS_EVERY_KEYS,
} from "./constants.js";
import { HashRingError, HashRingErrorCode } from "./errors.js";
import { xxhash32 } from "./hash.js";
import { JumpHash } from "./jump.js";
import type { Placement } from "./placement.js";
import { RendezvousHash } from "./rendezvous.js";
import { HashRing, lowerBound } from "./ring.js";

export const SIMULATION_STRATEGIES = ["ring", "bounded", "jump", "rendezvous"] as const;
export type SimulationStrategy = (typeof SIMULATION_STRATEGIES)[number];
export { MAX_SIMULATION_KEYS, MAX_SIMULATION_NODES };

export interface SimulationOptions {
  readonly nodes: number;
  /** Virtual nodes per node, one row each (ring and bounded); ignored by jump and rendezvous. */
  readonly vnodes: readonly number[];
  readonly keys: number;
  readonly strategy?: SimulationStrategy;
  /** Bounded loads only (default 0.25). */
  readonly epsilon?: number;
  readonly onProgress?: (message: string) => void;
}

export interface SimulationRow {
  /** Virtual nodes per node; null for jump and rendezvous (they have none). */
  readonly vnodes: number | null;
  readonly meanKeysPerNode: number;
  /** Population standard deviation of keys per node, as % of the mean. */
  readonly stddevPercent: number;
  readonly maxOverMean: number;
  readonly minOverMean: number;
  /** Fraction of keys whose node changed when node-<n> joined. */
  readonly movedOnAdd: number;
  /** Fraction of keys whose node changed when node-<n-1> left. */
  readonly movedOnRemove: number;
  /** Bounded loads: the capacity ceil((1+ε)·k/n) at the end of the base placement. */
  readonly capacity?: number;
}

export interface SimulationReport {
  readonly strategy: SimulationStrategy;
  readonly nodes: number;
  readonly keys: number;
  readonly epsilon: number | null;
  /** The ideal moved fractions: 1/(n+1) on a join, 1/n on a leave. */
  readonly idealMovedOnAdd: number;
  readonly idealMovedOnRemove: number;
  readonly rows: SimulationRow[];
}

export function nodeIdsFor(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `node-${index}`);
}

export function simulationKey(index: number): string {
  return `key:${index}`;
}

/** Runs the simulation. Throws BAD_OPTION / BAD_COUNT on out-of-range settings. */
export function simulate(options: SimulationOptions): SimulationReport {
  const strategy = options.strategy ?? "ring";
  const { nodes, keys } = options;
  checkInteger("nodes", nodes, 2, MAX_SIMULATION_NODES);
  checkInteger("keys", keys, 1, MAX_SIMULATION_KEYS);
  if (!(SIMULATION_STRATEGIES as readonly string[]).includes(strategy)) {
    throw new HashRingError(
      HashRingErrorCode.BAD_OPTION,
      `unknown strategy ${JSON.stringify(strategy)}`,
    );
  }
  const usesVnodes = strategy === "ring" || strategy === "bounded";
  if (usesVnodes && options.vnodes.length === 0) {
    throw new HashRingError(HashRingErrorCode.BAD_OPTION, "give at least one vnodes setting");
  }
  const epsilon = options.epsilon ?? DEFAULT_EPSILON;
  if (strategy === "bounded") assertEpsilon(epsilon);
  const progress = options.onProgress ?? (() => {});

  const baseIds = nodeIdsFor(nodes);
  const addedIds = nodeIdsFor(nodes + 1);
  const removedIds = nodeIdsFor(nodes - 1);
  const rows: SimulationRow[] = [];

  if (usesVnodes) {
    progress(`hashing ${keys} keys`);
    const hashes = new Uint32Array(keys);
    // The same hash HashRing.hashOf uses in its default (xxhash) mode.
    for (let i = 0; i < keys; i++) hashes[i] = xxhash32(simulationKey(i));
    for (const vnodes of options.vnodes) {
      const label = `vnodes ${vnodes}`;
      const build = (ids: string[]) => new HashRing(ids, { vnodes });
      const place =
        strategy === "ring"
          ? (ids: string[], phase: string) =>
              ringOwners(build(ids), hashes, progress, `${label} ${phase}`)
          : (ids: string[], phase: string) =>
              boundedOwners(build(ids), hashes, epsilon, progress, `${label} ${phase}`);
      const base = place(baseIds, "base");
      const added = place(addedIds, "join");
      const removed = place(removedIds, "leave");
      const row = summarize(vnodes, base, added, removed, nodes, keys);
      rows.push(
        strategy === "bounded"
          ? { ...row, capacity: Math.ceil(((1 + epsilon) * keys) / nodes) }
          : row,
      );
    }
  } else {
    const make = (ids: string[]): Placement =>
      strategy === "jump" ? new JumpHash(ids) : new RendezvousHash(ids);
    const base = placementOwners(make(baseIds), keys, progress, `${strategy} base`);
    const added = placementOwners(make(addedIds), keys, progress, `${strategy} join`);
    const removed = placementOwners(make(removedIds), keys, progress, `${strategy} leave`);
    rows.push(summarize(null, base, added, removed, nodes, keys));
  }
  return {
    strategy,
    nodes,
    keys,
    epsilon: strategy === "bounded" ? epsilon : null,
    idealMovedOnAdd: 1 / (nodes + 1),
    idealMovedOnRemove: 1 / nodes,
    rows,
  };
}

/** Owner of every key as a node number (the N in "node-N"). */
type Owners = Uint32Array;

function nodeNumber(id: string): number {
  return Number(id.slice("node-".length));
}

function ringOwners(
  ring: HashRing,
  hashes: Uint32Array,
  progress: (message: string) => void,
  label: string,
): Owners {
  const { points, owners, nodes } = ring.layout();
  const numbers = Uint32Array.from(nodes, (node) => nodeNumber(node.id));
  const out = new Uint32Array(hashes.length);
  for (let i = 0; i < hashes.length; i++) {
    out[i] = numbers[owners[lowerBound(points, hashes[i]!)]!]!;
    if ((i + 1) % PROGRESS_EVERY_KEYS === 0) progress(`${label}: ${i + 1}/${hashes.length} keys`);
  }
  progress(`${label}: done`);
  return out;
}

function boundedOwners(
  ring: HashRing,
  hashes: Uint32Array,
  epsilon: number,
  progress: (message: string) => void,
  label: string,
): Owners {
  const balancer = new BoundedLoadBalancer(ring, { epsilon });
  const numbers = Uint32Array.from(balancer.nodeIds(), nodeNumber);
  const out = new Uint32Array(hashes.length);
  for (let i = 0; i < hashes.length; i++) {
    out[i] = numbers[balancer.placeHash(hashes[i]!)]!;
    if ((i + 1) % PROGRESS_EVERY_KEYS === 0) progress(`${label}: ${i + 1}/${hashes.length} keys`);
  }
  progress(`${label}: done`);
  return out;
}

function placementOwners(
  placement: Placement,
  keys: number,
  progress: (message: string) => void,
  label: string,
): Owners {
  const out = new Uint32Array(keys);
  for (let i = 0; i < keys; i++) {
    out[i] = nodeNumber(placement.owner(simulationKey(i)));
    if ((i + 1) % PROGRESS_EVERY_KEYS === 0) progress(`${label}: ${i + 1}/${keys} keys`);
  }
  progress(`${label}: done`);
  return out;
}

function summarize(
  vnodes: number | null,
  base: Owners,
  added: Owners,
  removed: Owners,
  nodes: number,
  keys: number,
): SimulationRow {
  const counts = new Float64Array(nodes);
  for (const owner of base) counts[owner]!++;
  const mean = keys / nodes;
  let squares = 0;
  let max = 0;
  let min = Number.POSITIVE_INFINITY;
  for (const count of counts) {
    squares += (count - mean) ** 2;
    max = Math.max(max, count);
    min = Math.min(min, count);
  }
  return {
    vnodes,
    meanKeysPerNode: mean,
    stddevPercent: (100 * Math.sqrt(squares / nodes)) / mean,
    maxOverMean: max / mean,
    minOverMean: min / mean,
    movedOnAdd: movedFraction(base, added),
    movedOnRemove: movedFraction(base, removed),
  };
}

function movedFraction(before: Owners, after: Owners): number {
  let moved = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) moved++;
  return moved / before.length;
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new HashRingError(
      HashRingErrorCode.BAD_OPTION,
      `${name} must be an integer in ${min}..${max} (got ${value})`,
    );
  }
}

/** The report as an aligned text table (what the CLI prints without --json). */
export function formatSimulation(report: SimulationReport): string {
  const percent = (value: number) => `${(100 * value).toFixed(2)}%`;
  const header = [
    "vnodes",
    "keys/node",
    "stddev",
    "max/mean",
    "min/mean",
    "moved on join",
    "moved on leave",
  ];
  if (report.strategy === "bounded") header.push("capacity");
  const rows = report.rows.map((row) => {
    const cells = [
      row.vnodes === null ? "-" : String(row.vnodes),
      row.meanKeysPerNode.toFixed(0),
      `${row.stddevPercent.toFixed(2)}%`,
      row.maxOverMean.toFixed(3),
      row.minOverMean.toFixed(3),
      percent(row.movedOnAdd),
      percent(row.movedOnRemove),
    ];
    if (row.capacity !== undefined) cells.push(String(row.capacity));
    return cells;
  });
  const table = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  const lines = table.map((row) =>
    row.map((cell, column) => cell.padStart(widths[column]!)).join("  "),
  );
  lines.splice(1, 0, widths.map((width) => "-".repeat(width)).join("  "));
  const title =
    `strategy ${report.strategy}${report.epsilon === null ? "" : ` (epsilon ${report.epsilon})`}, ` +
    `${report.nodes} nodes, ${report.keys} keys; ideal moved: join ${percent(report.idealMovedOnAdd)} ` +
    `(1/(n+1)), leave ${percent(report.idealMovedOnRemove)} (1/n)`;
  return [title, ...lines].join("\n");
}
