/**
 * Seeded pseudo-random numbers for the simulation (mulberry32): the same seed
 * gives the same run, which is what makes a failing seed replay exactly.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

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
