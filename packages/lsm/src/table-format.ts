/**
 * Table (SSTable) file layout. PART OF THE FILE FORMAT:
 *
 *   data block 0 | trailer
 *   ...
 *   data block n-1 | trailer
 *   filter block | trailer        bloom filter over every user key (bloom.ts)
 *   index block | trailer         one entry per data block: key = the block's last
 *                                 internal key, value = offset (varint) | size (varint)
 *   footer (48 bytes)
 *
 * Blocks use the encoding of block-builder.ts. Every block is followed by a
 * 5-byte trailer: compression type (1, 0 = none) | crc32c (4, LE, masked, over
 * the block bytes and the compression byte). Block sizes exclude the trailer.
 *
 * Footer (48 bytes, little-endian):
 *   filter offset (8) | filter size (4) | index offset (8) | index size (4)
 *   | entry count (8) | format version (4) | crc32c of the previous 36 bytes (4, masked)
 *   | magic "SCLSMTBL" (8)
 */
export const FOOTER_CRC_OFFSET = 36;
export const FOOTER_MAGIC_OFFSET = 40;

export function writeU64(buffer: Buffer, value: number, offset: number): void {
  buffer.writeUIntLE(value, offset, 6);
  buffer.writeUInt16LE(0, offset + 6);
}

export function readU64(buffer: Buffer, offset: number): number {
  return buffer.readUIntLE(offset, 6) + buffer.readUInt16LE(offset + 6) * 2 ** 48;
}
