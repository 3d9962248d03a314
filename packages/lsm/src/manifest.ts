/**
 * The manifest records the set of live tables per level, the next file number,
 * the last sequence persisted in tables and the oldest commit log still needed.
 *
 * It is an atomically replaced file: every change writes a complete new
 * MANIFEST-<n> file, fsyncs it, then points CURRENT at it (write CURRENT.tmp,
 * fsync, rename over CURRENT, fsync the directory) and deletes the old
 * manifest. A crash at any moment leaves CURRENT naming a complete, fsynced
 * manifest: either the old set of tables or the new one, never a mix.
 *
 * Manifest file layout, PART OF THE FILE FORMAT:
 *   magic "SCLSMMAN" (8) | format version (4, LE) | body length (4, LE)
 *   | crc32c of the body (4, LE, masked) | body (UTF-8 JSON, see ManifestBody)
 * CURRENT holds the manifest's file name followed by a newline.
 */
import { open, readFile, rename } from "node:fs/promises";
import {
  MANIFEST_FORMAT_VERSION,
  MANIFEST_HEADER_BYTES,
  MANIFEST_MAGIC,
  NUM_LEVELS,
} from "./constants.js";
import { maskedCrc32c } from "./crc32c.js";
import { corruption } from "./errors.js";
import { CURRENT_FILE, filePath, manifestFileName } from "./filenames.js";
import {
  type TableMeta,
  type TableMetaJson,
  tableMetaFromJson,
  tableMetaToJson,
} from "./version.js";

export interface ManifestState {
  nextFileNumber: number;
  lastSequence: number;
  /** Commit logs numbered below this hold only flushed data and may be deleted. */
  logNumber: number;
  levels: readonly (readonly TableMeta[])[];
}

/** JSON body. Keys are hex strings. Part of the file format. */
interface ManifestBody {
  nextFileNumber: number;
  lastSequence: number;
  logNumber: number;
  /** Tables per level, each in TableMetaJson form (whose fields are therefore part of the format too). */
  levels: TableMetaJson[][];
}

export async function writeManifest(
  dir: string,
  number: number,
  state: ManifestState,
): Promise<void> {
  const body: ManifestBody = {
    nextFileNumber: state.nextFileNumber,
    lastSequence: state.lastSequence,
    logNumber: state.logNumber,
    levels: state.levels.map((tables) => tables.map(tableMetaToJson)),
  };
  const bodyBytes = Buffer.from(JSON.stringify(body), "utf8");
  const header = Buffer.alloc(MANIFEST_HEADER_BYTES);
  MANIFEST_MAGIC.copy(header, 0);
  header.writeUInt32LE(MANIFEST_FORMAT_VERSION, 8);
  header.writeUInt32LE(bodyBytes.length, 12);
  header.writeUInt32LE(maskedCrc32c(bodyBytes), 16);
  const name = manifestFileName(number);
  await writeDurably(filePath(dir, name), Buffer.concat([header, bodyBytes]), "wx");
  const currentTemp = filePath(dir, `${CURRENT_FILE}.tmp`);
  await writeDurably(currentTemp, Buffer.from(`${name}\n`, "utf8"), "w");
  await rename(currentTemp, filePath(dir, CURRENT_FILE));
  await syncDirectory(dir);
}

/** Reads the manifest CURRENT points to; null when there is no CURRENT (no database yet). */
export async function readCurrentManifest(
  dir: string,
): Promise<{ manifestNumber: number; state: ManifestState } | null> {
  let current: string;
  try {
    current = await readFile(filePath(dir, CURRENT_FILE), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  const match = /^MANIFEST-(\d+)\n$/.exec(current);
  const currentPath = filePath(dir, CURRENT_FILE);
  if (match === null) throw corruption(currentPath, 0, "CURRENT does not name a manifest");
  const manifestNumber = Number(match[1]);
  const path = filePath(dir, manifestFileName(manifestNumber));
  const data = await readFile(path);
  if (data.length < MANIFEST_HEADER_BYTES || !data.subarray(0, 8).equals(MANIFEST_MAGIC)) {
    throw corruption(path, 0, "bad manifest magic number");
  }
  const version = data.readUInt32LE(8);
  if (version !== MANIFEST_FORMAT_VERSION)
    throw corruption(path, 8, `unsupported manifest version ${version}`);
  const length = data.readUInt32LE(12);
  const bodyBytes = data.subarray(MANIFEST_HEADER_BYTES);
  if (bodyBytes.length !== length)
    throw corruption(path, 12, `body length ${length} does not match the file`);
  if (maskedCrc32c(bodyBytes) !== data.readUInt32LE(16)) {
    throw corruption(path, MANIFEST_HEADER_BYTES, "manifest checksum mismatch");
  }
  let body: ManifestBody;
  try {
    body = JSON.parse(bodyBytes.toString("utf8")) as ManifestBody;
  } catch {
    throw corruption(path, MANIFEST_HEADER_BYTES, "manifest body is not valid JSON");
  }
  if (!Array.isArray(body.levels) || body.levels.length !== NUM_LEVELS) {
    throw corruption(path, MANIFEST_HEADER_BYTES, "manifest does not list every level");
  }
  return {
    manifestNumber,
    state: {
      nextFileNumber: body.nextFileNumber,
      lastSequence: body.lastSequence,
      logNumber: body.logNumber,
      levels: body.levels.map((tables) => tables.map(tableMetaFromJson)),
    },
  };
}

async function writeDurably(path: string, data: Buffer, flags: string): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
