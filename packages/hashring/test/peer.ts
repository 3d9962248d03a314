/**
 * The peer we must agree with: the `hashring` npm package, version 3.2.0 (a
 * CommonJS module without type declarations, so it is typed here).
 */
import { createRequire } from "node:module";

export interface PeerHashRing {
  get(key: string): string;
  /** The peer's uncached lookup path: index of the point owning a key hash. */
  find(hashValue: number): number;
  hashValue(key: string): number;
  ring: { value: number; server: string }[];
  range(key: string, size?: number, unique?: boolean): string[];
  add(servers: string | string[] | Record<string, number>): PeerHashRing;
  remove(server: string): PeerHashRing;
}

type PeerConstructor = new (
  servers: string[] | Record<string, number | { weight?: number; vnodes?: number }>,
  algorithm?: string,
  options?: Record<string, unknown>,
) => PeerHashRing;

const require = createRequire(import.meta.url);
export const PeerHashRingClass = require("hashring") as PeerConstructor;
export const peerVersion = (require("hashring/package.json") as { version: string }).version;

/**
 * The server the peer's ring assigns to a key, bypassing its LRU cache. The
 * cache (simple-lru-cache) stores entries in a plain object, so keys named
 * like Object.prototype members ("constructor", "toString", "__proto__")
 * read inherited properties and `get()` returns a wrong server for them.
 */
export function peerRingOwner(peer: PeerHashRing, key: string): string {
  return peer.ring[peer.find(peer.hashValue(key))]!.server;
}

/** Keys the peer's cache mishandles (see peerRingOwner). */
export function peerCacheSafe(key: string): boolean {
  return !(key in Object.prototype) && key !== "__proto__";
}
