/**
 * The simulation's checker: from the writes the coordinators issued (with their
 * dots and superseded contexts) and the converged state, it reports
 *   - lost writes: acknowledged puts neither present as a value/sibling nor
 *     superseded by a write or delete whose context saw them;
 *   - resurrections: a value present after convergence although some issued
 *     write or delete saw (superseded) it — deleted data coming back;
 *   - counter errors: a count outside what acknowledged (and possibly applied
 *     unacknowledged) increments allow.
 * It recomputes "saw" from the raw vectors, not from the merge code under test.
 */
import { counterValue, type KeyObject, visibleCount } from "../../../src/cluster/index.js";
import type { IssuedWrite } from "./simulation.js";

export interface CheckReport {
  readonly acknowledgedPuts: number;
  readonly lost: readonly string[];
  readonly resurrected: readonly string[];
  readonly counterErrors: readonly string[];
  readonly superseded: number;
  readonly keysWithSiblings: number;
}

function saw(vv: Readonly<Record<string, number>>, actor: string, counter: number): boolean {
  return (vv[actor] ?? 0) >= counter;
}

export function check(
  issued: Iterable<IssuedWrite>,
  final: ReadonlyMap<string, KeyObject>,
): CheckReport {
  const byKey = new Map<string, IssuedWrite[]>();
  for (const write of issued) {
    const list = byKey.get(write.key) ?? [];
    list.push(write);
    byKey.set(write.key, list);
  }
  const lost: string[] = [];
  const resurrected: string[] = [];
  const counterErrors: string[] = [];
  let acknowledgedPuts = 0;
  let superseded = 0;
  let keysWithSiblings = 0;
  for (const [key, writes] of byKey) {
    const object = final.get(key);
    const present = new Set((object?.siblings ?? []).map((s) => `${s.dot.actor}/${s.dot.counter}`));
    if ((object?.siblings.filter((s) => s.value !== null).length ?? 0) > 1) keysWithSiblings += 1;
    const registerWrites = writes.filter((w) => w.kind !== "incr");
    for (const write of registerWrites) {
      if (write.kind !== "put" || !write.acknowledged) continue;
      acknowledgedPuts += 1;
      if (present.has(`${write.dot.actor}/${write.dot.counter}`)) continue;
      const seenBy = registerWrites.find(
        (other) => other !== write && saw(other.vv, write.dot.actor, write.dot.counter),
      );
      if (seenBy !== undefined) superseded += 1;
      else lost.push(`${key}: acknowledged ${write.requestId} (value ${write.value}) is gone`);
    }
    for (const sibling of object?.siblings ?? []) {
      const seenBy = registerWrites.find((other) =>
        saw(other.vv, sibling.dot.actor, sibling.dot.counter),
      );
      if (seenBy !== undefined) {
        resurrected.push(
          `${key}: ${sibling.value === null ? "tombstone" : "value"} ${sibling.dot.actor}/${sibling.dot.counter} ` +
            `is back although ${seenBy.requestId} superseded it`,
        );
      }
    }
    const increments = writes.filter((w) => w.kind === "incr");
    if (increments.length > 0 && registerWrites.length === 0) {
      const count = object === undefined ? 0 : visibleCount(object);
      const acked = increments.filter((w) => w.acknowledged).reduce((sum, w) => sum + w.delta, 0);
      const unacked = increments.filter((w) => !w.acknowledged);
      const low = acked + unacked.filter((w) => w.delta < 0).reduce((sum, w) => sum + w.delta, 0);
      const high = acked + unacked.filter((w) => w.delta > 0).reduce((sum, w) => sum + w.delta, 0);
      if (count < low || count > high || (unacked.length === 0 && count !== acked)) {
        counterErrors.push(`${key}: count ${count}, acknowledged increments sum to ${acked}`);
      }
      if (object !== undefined && counterValue(object.counterFloor) !== 0) {
        counterErrors.push(`${key}: a never-deleted counter has a floor`);
      }
    }
  }
  return { acknowledgedPuts, lost, resurrected, counterErrors, superseded, keysWithSiblings };
}
