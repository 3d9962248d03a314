/**
 * Brute-force reference implementations the property tests compare against:
 * no sorting tricks, no binary search, written from the README's definitions.
 */
import { xxhash32 } from "../src/hash.js";

export interface ReferenceNode {
  id: string;
  weight?: number;
  zone?: string;
}

export interface ReferencePoint {
  point: number;
  id: string;
  index: number;
}

/** Points of the default (xxhash) layout: round(weight · vnodes) >= 1 per node at xxh32(`id#i`). */
export function referencePoints(nodes: readonly ReferenceNode[], vnodes: number): ReferencePoint[] {
  const out: ReferencePoint[] = [];
  for (const node of nodes) {
    const count = Math.max(1, Math.round((node.weight ?? 1) * vnodes));
    for (let index = 0; index < count; index++) {
      out.push({ point: xxhash32(`${node.id}#${index}`), id: node.id, index });
    }
  }
  return out;
}

/** Orders points by position, then by id, then by index: the documented tie-break. */
function before(a: ReferencePoint, b: ReferencePoint): boolean {
  if (a.point !== b.point) return a.point < b.point;
  if (a.id !== b.id) return a.id < b.id;
  return a.index < b.index;
}

/** The owner of a hash by linear scan: the smallest point >= hash, else the smallest point. */
export function referenceOwner(points: readonly ReferencePoint[], hash: number): string {
  let best: ReferencePoint | undefined;
  let lowest: ReferencePoint | undefined;
  for (const p of points) {
    if (lowest === undefined || before(p, lowest)) lowest = p;
    if (p.point >= hash && (best === undefined || before(p, best))) best = p;
  }
  return (best ?? lowest)!.id;
}

/** Distinct nodes in clockwise order from hash (every node, each once). */
export function referenceClockwise(points: readonly ReferencePoint[], hash: number): string[] {
  const sorted = [...points].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
  let start = sorted.findIndex((p) => p.point >= hash);
  if (start < 0) start = 0;
  const order: string[] = [];
  for (let step = 0; step < sorted.length; step++) {
    const id = sorted[(start + step) % sorted.length]!.id;
    if (!order.includes(id)) order.push(id);
  }
  return order;
}

/** Preference list by definition: new zones first in clockwise order, then the rest clockwise. */
export function referencePreferenceList(
  clockwise: readonly string[],
  zoneOf: (id: string) => string,
  n: number,
): string[] {
  const picked: string[] = [];
  const zones = new Set<string>();
  for (const id of clockwise) {
    if (picked.length === n) break;
    if (!zones.has(zoneOf(id))) {
      zones.add(zoneOf(id));
      picked.push(id);
    }
  }
  for (const id of clockwise) {
    if (picked.length === n) break;
    if (!picked.includes(id)) picked.push(id);
  }
  return picked;
}
