/**
 * Benchmark suite `ring`: lookups per second and ring build time of our
 * HashRing against the `hashring` npm package (3.2.0), the ketama ring a Node
 * user would pick. Same 100 servers, 160 points each, ~20-byte string keys,
 * ours and the peer alternating round by round in one process.
 *
 * Our default ring (xxHash32) and our ketama-mode ring (MD5, identical
 * placement to the peer) are reported separately. The peer's get() goes
 * through its LRU cache (5000 entries); the key pool is far larger, so, as for
 * a real key space, nearly every lookup misses it.
 */
import { createRequire } from "node:module";
import {
  alternate,
  type BenchResult,
  defineSuite,
  measureOpsPerSecond,
  result,
  seededRandom,
} from "@scaleout/bench";
import { HashRing, type RingMode } from "@scaleout/hashring";

interface PeerRing {
  get(key: string): string;
}
type PeerConstructor = new (servers: string[]) => PeerRing;

const require = createRequire(import.meta.url);
const PeerHashRing = require("hashring") as PeerConstructor;
const PEER_NAME = `hashring@${(require("hashring/package.json") as { version: string }).version}`;

const SERVER_COUNT = 100;
const KEY_POOL_SIZE = 100_000;
const KEY_LENGTH = 20;
const LOOKUPS_PER_CALL = 1_000;
const KEY_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

const servers = Array.from({ length: SERVER_COUNT }, (_, i) => `10.0.${i >> 8}.${i & 255}:11211`);

function makeKeys(): string[] {
  const random = seededRandom(0x5ca1e);
  return Array.from({ length: KEY_POOL_SIZE }, () => {
    let key = "user:";
    while (key.length < KEY_LENGTH) key += KEY_ALPHABET[Math.floor(random() * KEY_ALPHABET.length)];
    return key;
  });
}

/** A lookup loop over the key pool; the checksum keeps the JIT from dropping the work. */
function lookupLoop(lookup: (key: string) => string, keys: readonly string[]) {
  let cursor = 0;
  let checksum = 0;
  const work = () => {
    for (let i = 0; i < LOOKUPS_PER_CALL; i++) {
      checksum += lookup(keys[cursor]!).length;
      cursor = cursor + 1 === keys.length ? 0 : cursor + 1;
    }
  };
  return { work, checksum: () => checksum };
}

function buildMs(build: () => void, repeats: number): number {
  const start = performance.now();
  for (let i = 0; i < repeats; i++) build();
  return (performance.now() - start) / repeats;
}

export default defineSuite({
  name: "ring",
  description: `consistent-hash lookups and builds, ${SERVER_COUNT} servers x 160 points, vs ${PEER_NAME}`,
  async run(context) {
    const rounds = context.quick ? 5 : 11;
    const durationMs = context.quick ? 250 : 1_000;
    const buildRepeats = context.quick ? 5 : 20;
    const keys = makeKeys();
    const peer = new PeerHashRing(servers);
    const ringOf = (mode: RingMode) => new HashRing(servers, { mode, vnodes: 160 });
    const rings = { xxhash: ringOf("xxhash"), ketama: ringOf("ketama") };

    // The comparison is only meaningful if ketama mode places keys like the peer.
    let disagreements = 0;
    for (const key of keys) if (rings.ketama.owner(key) !== peer.get(key)) disagreements++;
    if (disagreements > 0)
      throw new Error(`ketama mode disagrees with ${PEER_NAME} on ${disagreements} keys`);
    context.progress(`ketama mode agrees with ${PEER_NAME} on all ${keys.length} keys`);

    const results: BenchResult[] = [];
    for (const mode of ["xxhash", "ketama"] as const) {
      const ring = rings[mode];
      const ours = lookupLoop((key) => ring.owner(key), keys);
      const theirs = lookupLoop((key) => peer.get(key), keys);
      const figures = await alternate({
        rounds,
        ours: () => measureOpsPerSecond(ours.work, LOOKUPS_PER_CALL, durationMs),
        peer: () => measureOpsPerSecond(theirs.work, LOOKUPS_PER_CALL, durationMs),
        onRound: (round, o, p) =>
          context.progress(
            `lookup ${mode} round ${round + 1}/${rounds}: ours ${Math.round(o)}/s, peer ${Math.round(p)}/s`,
          ),
      });
      results.push(
        result(
          `lookup ${mode === "xxhash" ? "default (xxhash32)" : "ketama mode (md5)"}, ${SERVER_COUNT} servers x 160 points`,
          "ops/s",
          figures.ours,
          { name: PEER_NAME, value: figures.peer },
          {
            keyBytes: KEY_LENGTH,
            keyPool: KEY_POOL_SIZE,
            rounds,
            checksum: ours.checksum() % 1000,
          },
        ),
      );
    }

    for (const mode of ["xxhash", "ketama"] as const) {
      const build = () => {
        // owner() forces the lazy build: construction plus the first lookup is the full cost.
        new HashRing(servers, { mode, vnodes: 160 }).owner("warm");
      };
      const peerBuild = () => {
        new PeerHashRing(servers).get("warm");
      };
      const figures = await alternate({
        rounds,
        ours: () => buildMs(build, buildRepeats),
        peer: () => buildMs(peerBuild, buildRepeats),
      });
      context.progress(
        `build ${mode}: ours ${figures.ours.toFixed(2)} ms, peer ${figures.peer.toFixed(2)} ms`,
      );
      results.push(
        result(
          `build ${mode === "xxhash" ? "default (xxhash32)" : "ketama mode (md5)"}, ${SERVER_COUNT} servers x 160 points`,
          "ms",
          figures.ours,
          { name: PEER_NAME, value: figures.peer },
          { repeatsPerRound: buildRepeats, rounds },
        ),
      );
    }
    return results;
  },
});
