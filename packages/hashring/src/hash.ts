/**
 * The hash functions the rings use. xxhash-wasm needs an asynchronous
 * WebAssembly instantiation; doing it once here with a top-level await keeps
 * every ring API synchronous (an importer waits for this module to load).
 */
import { createHash, hash as oneShotHash } from "node:crypto";
import xxhash from "xxhash-wasm";
import { XXHASH_SEED } from "./constants.js";
import { md5ShortAscii } from "./md5.js";

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

const words = new Uint32Array(4);

/**
 * MD5 of `text` as four little-endian 32-bit words (word j is digest bytes
 * 4j..4j+3 read little-endian: libketama's point j). Short ASCII strings take
 * the allocation-free path of md5.ts.
 */
export function md5Words(text: string, out: Uint32Array): void {
  if (md5ShortAscii(text, out)) return;
  const digest = md5(text);
  for (let j = 0; j < 4; j++) out[j] = digest.readUInt32LE(j * 4);
}

/**
 * The ketama key hash: the first four MD5 bytes read little-endian, as
 * libketama and the `hashring` npm package do.
 */
export function ketamaKeyHash(text: string): number {
  if (md5ShortAscii(text, words)) return words[0]!;
  return md5(text).readUInt32LE(0);
}
