/**
 * Tunables and format constants of the hash ring, in one place.
 *
 * FORMAT WARNING: the constants marked "format" decide where every virtual
 * node lands. Changing one changes which node owns which key in every ring
 * built by every process, so a cluster would disagree with itself mid-upgrade.
 */

/** Size of the hash space: points and key hashes are unsigned 32-bit integers. */
export const HASH_SPACE = 2 ** 32;

/** The largest point value (points live in [0, HASH_SPACE - 1]). */
export const MAX_POINT = HASH_SPACE - 1;

/**
 * Virtual nodes per unit of weight by default. With v points per node the
 * keys-per-node spread is about 1/sqrt(v) of the mean (≈ 8% at 160), and 160
 * is what libketama places per server, so both modes have the same density.
 */
export const DEFAULT_VNODES = 160;

/** The most virtual nodes one node may ask for: keeps one misconfigured weight from eating memory. */
export const MAX_VNODES_PER_NODE = 65_536;

/**
 * Upper bound on points in one ring. The build sorts points packed as
 * `point * 2^POINT_ORDINAL_BITS + ordinal` in a Float64Array, which is exact
 * while the product stays below 2^53: 32 + 21 = 53 bits.
 */
export const POINT_ORDINAL_BITS = 21;
export const MAX_RING_POINTS = 2 ** POINT_ORDINAL_BITS;

/** Format: seed of xxHash32 for both key hashes and virtual-node points. */
export const XXHASH_SEED = 0;

/** Format: a virtual node's point is xxh32(`${nodeId}${VNODE_SEPARATOR}${index}`). */
export const VNODE_SEPARATOR = "#";

/** Format (libketama): each server gets 40 MD5 digests, "host-0" .. "host-39", at equal weights. */
export const KETAMA_HASHES_PER_SERVER = 40;

/** Format (libketama): each 16-byte digest yields 4 little-endian 32-bit points. */
export const KETAMA_POINTS_PER_HASH = 4;

/** Default ε for bounded-load assignment: capacity ceil(1.25 · average), as in the paper's experiments. */
export const DEFAULT_EPSILON = 0.25;

/** Format: seed for the second 32-bit half of the 64-bit key that jump hash consumes. */
export const JUMP_HIGH_SEED = 0x9e3779b9;

/** Simulation limits: 10M keys keep the four per-key arrays near 160 MB. */
export const MAX_SIMULATION_KEYS = 10_000_000;
export const MAX_SIMULATION_NODES = 10_000;

/** A simulation pass reports progress every this many keys (about every second on a slow machine). */
export const SIMULATION_PROGRESS_EVERY_KEYS = 1 << 20;
