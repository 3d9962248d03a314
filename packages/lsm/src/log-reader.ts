/**
 * Reads a commit log back during recovery. Records are checked one by one
 * (header present, length within the file, CRC32C, known type, well-formed
 * batch). The first record failing a check ends the log: it and everything
 * after it are a torn or corrupt tail, dropped and reported through `onDrop`
 * with the file, offset and byte count. (A torn tail is the normal result of a
 * crash during a write; since records carry no resynchronisation marker, a
 * corrupt record in the middle also ends the replay there.)
 */
import { readFile } from "node:fs/promises";
import { LOG_HEADER_BYTES, LOG_RECORD_WRITE_BATCH } from "./constants.js";
import { maskedCrc32c } from "./crc32c.js";
import { validateBatchPayload } from "./log-format.js";

export interface DroppedTail {
  file: string;
  offset: number;
  droppedBytes: number;
  reason: string;
}

/** Returns the payloads of the valid records, in order. */
export async function readLogRecords(
  path: string,
  onDrop: (tail: DroppedTail) => void,
): Promise<Buffer[]> {
  const data = await readFile(path);
  const records: Buffer[] = [];
  let offset = 0;
  while (offset < data.length) {
    const reason = checkRecord(data, offset);
    if (reason !== null) {
      onDrop({ file: path, offset, droppedBytes: data.length - offset, reason });
      break;
    }
    const length = data.readUInt32LE(offset + 4);
    records.push(data.subarray(offset + LOG_HEADER_BYTES, offset + LOG_HEADER_BYTES + length));
    offset += LOG_HEADER_BYTES + length;
  }
  return records;
}

function checkRecord(data: Buffer, offset: number): string | null {
  if (offset + LOG_HEADER_BYTES > data.length) return "incomplete record header";
  const length = data.readUInt32LE(offset + 4);
  const end = offset + LOG_HEADER_BYTES + length;
  if (end > data.length) return `record length ${length} runs past the end of the file`;
  const stored = data.readUInt32LE(offset);
  if (maskedCrc32c(data.subarray(offset + 8, end)) !== stored) return "checksum mismatch";
  if (data[offset + 8] !== LOG_RECORD_WRITE_BATCH) return `unknown record type ${data[offset + 8]}`;
  if (!validateBatchPayload(data.subarray(offset + LOG_HEADER_BYTES, end))) {
    return "malformed write batch";
  }
  return null;
}
