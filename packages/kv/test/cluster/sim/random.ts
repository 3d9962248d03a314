/**
 * Seeded pseudo-random numbers for the simulation: @scaleout/bench's
 * seededRandom (mulberry32), so the same seed gives the same run, which is
 * what makes a failing seed replay exactly (it is the generator this file
 * used to define, value for value).
 */
export { seededRandom } from "@scaleout/bench";

export function randomInt(
  random: () => number,
  lowInclusive: number,
  highExclusive: number,
): number {
  return lowInclusive + Math.floor(random() * (highExclusive - lowInclusive));
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error("pick from an empty list");
  return item;
}
