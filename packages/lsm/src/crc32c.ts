/**
 * CRC32C (Castagnoli) through @node-rs/crc32 (hardware-accelerated). Stored
 * checksums are masked as in LevelDB, so a CRC computed over data that itself
 * contains CRCs does not degenerate.
 */
import { crc32c as rawCrc32c } from "@node-rs/crc32";

const MASK_DELTA = 0xa282ead8;

export function crc32c(bytes: Uint8Array): number {
  return rawCrc32c(bytes) >>> 0;
}

/** The masked CRC stored on disk. Part of the file format. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}
