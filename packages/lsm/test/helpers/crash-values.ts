import { createHash } from "node:crypto";

/** Value stored for `key` by the crash writer: 50–1550 bytes derived from the key's hash. */
export function valueFor(key: string): Buffer {
  const digest = createHash("sha256").update(key).digest();
  const length = 50 + (digest.readUInt16LE(0) % 1500);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = digest[i % digest.length]!;
  return out;
}
