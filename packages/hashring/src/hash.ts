/**
 * The hash functions the rings use. xxhash-wasm needs an asynchronous
 * WebAssembly instantiation; doing it once here with a top-level await keeps
 * every ring API synchronous (an importer waits for this module to load).
 */
import { createHash, hash as oneShotHash } from "node:crypto";
import xxhash from "xxhash-wasm";
import { XXHASH_SEED } from "./constants.js";

const api = await xxhash();
const h32 = api.h32;

/** xxHash32 of the UTF-8 bytes of `text`: the default key and point hash. */
export function xxhash32(text: string, seed: number = XXHASH_SEED): number {
  return h32(text, seed);
}

/**
 * MD5 of the UTF-8 bytes of `text`. Node >= 20.12 has the faster one-shot
 * crypto.hash; older 20.x falls back to createHash.
 */
export const md5: (text: string) => Buffer =
  typeof oneShotHash === "function"
    ? (text) => oneShotHash("md5", text, "buffer")
    : (text) => createHash("md5").update(text).digest();

/**
 * The ketama key hash: the first four MD5 bytes read little-endian, as
 * libketama and the `hashring` npm package do.
 */
export function ketamaKeyHash(text: string): number {
  return md5(text).readUInt32LE(0);
}
