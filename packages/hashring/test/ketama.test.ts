import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HashRing, ketamaKeyHash } from "../src/index.js";
import { MD5_SINGLE_BLOCK_MAX_BYTES, md5ShortAscii } from "../src/md5.js";
import { PeerHashRingClass, peerCacheSafe, peerRingOwner, peerVersion } from "./peer.js";

const servers = Array.from({ length: 10 }, (_, i) => `10.0.1.${i + 1}:11211`);
// Server names that are not integer-like: the peer takes weights as an object,
// and JavaScript orders integer-like object keys first.
const serverName = fc.stringMatching(/^[a-z][a-z0-9.]{0,10}:[0-9]{2,5}$/);

describe("ketama mode", () => {
  it("is compared with hashring@3.2.0", () => {
    expect(peerVersion).toBe("3.2.0");
  });

  it("hashes keys as libketama does (first 4 MD5 bytes, little-endian)", () => {
    // md5("hello") = 5d41402a...: bytes 5d 41 40 2a read little-endian.
    expect(ketamaKeyHash("hello")).toBe(0x2a40415d);
  });

  it("picks the same server as hashring@3.2.0 on 10 000 random keys", () => {
    const peer = new PeerHashRingClass(servers);
    const ours = new HashRing(servers, { mode: "ketama" });
    expect(ours.pointCount).toBe(servers.length * 160);
    const keys = fc.sample(fc.string({ minLength: 1, maxLength: 40, unit: "binary" }), {
      numRuns: 10_000,
      seed: 20_260_510,
    });
    let disagreements = 0;
    for (const key of keys) {
      const expected = peerCacheSafe(key) ? peer.get(key) : peerRingOwner(peer, key);
      if (ours.owner(key) !== expected) disagreements++;
    }
    expect(disagreements).toBe(0);
  });

  it("agrees with hashring@3.2.0 for random server lists, weights and removals", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(serverName, fc.integer({ min: 1, max: 8 })), {
          minLength: 1,
          maxLength: 12,
          selector: ([name]) => name,
        }),
        fc.array(fc.string({ minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 200 }),
        (list, keys) => {
          const weights = Object.fromEntries(list);
          const peer = new PeerHashRingClass(weights);
          const ours = new HashRing(
            list.map(([id, weight]) => ({ id, weight })),
            { mode: "ketama" },
          );
          for (const key of keys) {
            expect(ours.owner(key)).toBe(peerRingOwner(peer, key));
            // The peer's range(key, n) is its list of distinct servers clockwise.
            expect(ours.preferenceList(key, 3)).toEqual(peer.range(key, 3));
          }
          if (list.length > 1) {
            const [gone] = list[0]!;
            peer.remove(gone);
            ours.removeNode(gone);
            for (const key of keys) expect(ours.owner(key)).toBe(peerRingOwner(peer, key));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("answers from the ring for keys the peer's LRU cache gets wrong", () => {
    const peer = new PeerHashRingClass(["a:1", "b:1", "c:1", "d:1"]);
    const ours = new HashRing(["a:1", "b:1", "c:1", "d:1"], { mode: "ketama" });
    for (const key of ["constructor", "toString", "valueOf", "hasOwnProperty", "__proto__"]) {
      expect(ours.owner(key)).toBe(peerRingOwner(peer, key));
    }
  });

  it("matches the peer at every server count, where floor(1/n · 40 · n) can be 39", () => {
    for (let n = 1; n <= 40; n++) {
      const list = servers
        .slice(0, Math.min(n, servers.length))
        .concat(
          Array.from({ length: Math.max(0, n - servers.length) }, (_, i) => `cache-${i}:11211`),
        );
      const peer = new PeerHashRingClass(list);
      const ours = new HashRing(list, { mode: "ketama" });
      for (let i = 0; i < 100; i++) expect(ours.owner(`k${n}-${i}`)).toBe(peer.get(`k${n}-${i}`));
    }
  });
});

describe("md5ShortAscii", () => {
  it("equals node:crypto MD5 on ASCII up to 55 bytes, and declines everything else", () => {
    fc.assert(
      fc.property(
        fc.string({
          maxLength: 70,
          unit: fc.constantFrom("a", "Z", "0", "-", " ", "\u007f", "é", "😀", "\u0000"),
        }),
        (text) => {
          const out = new Uint32Array(4);
          const bytes = Buffer.byteLength(text);
          const taken = md5ShortAscii(text, out);
          expect(taken).toBe(bytes === text.length && bytes <= MD5_SINGLE_BLOCK_MAX_BYTES);
          if (taken) {
            const digest = createHash("md5").update(text).digest();
            expect([...out]).toEqual([0, 1, 2, 3].map((j) => digest.readUInt32LE(4 * j)));
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
