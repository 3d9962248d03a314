/**
 * The restart-safety state file. Before a generator uses a timestamp it has
 * written "I may use timestamps up to T" here, durably; a later run reads T and
 * will not issue ids with timestamps <= T. So a process restarted after the
 * wall clock stepped back waits (or refuses) instead of repeating ids.
 *
 * File format (part of the on-disk format; change only with a new `version`),
 * one JSON object, UTF-8, newline-terminated:
 *
 *   {"format":"scaleout-snowflake-state","version":1,
 *    "reservedUntilMs":1764300000000,   // Unix ms; no id of this run has a later timestamp
 *    "epochMs":1288834974657,"timeUnitMs":1,"layout":"twitter",
 *    "datacenter":0,"machine":3,"writtenAtMs":1764299998000,"clean":false}
 *
 * `clean` is true when a graceful shutdown wrote the last timestamp actually
 * used (so the next run need not wait out the unused reservation).
 *
 * Writes are atomic: write a temporary file beside it, fsync it, rename it over
 * the old one, fsync the directory. A reader sees the old or the new file,
 * never a torn one.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { SnowflakeError, SnowflakeErrorCode } from "./errors.js";
import type { Layout } from "./layout.js";

export const STATE_FILE_FORMAT = "scaleout-snowflake-state";
export const STATE_FILE_VERSION = 1;

export interface StateRecord {
  reservedUntilMs: number;
  epochMs: number;
  timeUnitMs: number;
  layout: string;
  datacenter: number;
  machine: number;
  writtenAtMs: number;
  clean: boolean;
}

/** Reads a state file; null when it does not exist. Throws on anything it cannot trust. */
export function readStateFile(path: string): StateRecord | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  const corrupt = (why: string) =>
    new SnowflakeError(
      SnowflakeErrorCode.STATE_FILE_CORRUPT,
      `state file ${path} ${why}; refusing to guess which timestamps a previous run used (inspect or remove it)`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw corrupt("is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null) throw corrupt("is not a JSON object");
  const record = parsed as Record<string, unknown>;
  if (record.format !== STATE_FILE_FORMAT) throw corrupt(`has format ${String(record.format)}`);
  if (record.version !== STATE_FILE_VERSION)
    throw corrupt(`has unknown version ${String(record.version)}`);
  const integer = (field: string): number => {
    const value = record[field];
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      throw corrupt(`has no valid "${field}"`);
    }
    return value;
  };
  return {
    reservedUntilMs: integer("reservedUntilMs"),
    epochMs: integer("epochMs"),
    timeUnitMs: integer("timeUnitMs"),
    layout: typeof record.layout === "string" ? record.layout : "unknown",
    datacenter: integer("datacenter"),
    machine: integer("machine"),
    writtenAtMs: integer("writtenAtMs"),
    clean: record.clean === true,
  };
}

/** Writes a state file atomically and durably (see the module comment). */
export function writeStateFile(path: string, record: StateRecord): void {
  const text = `${JSON.stringify({ format: STATE_FILE_FORMAT, version: STATE_FILE_VERSION, ...record })}\n`;
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(temporary, "w", 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  // The rename itself is durable only once the directory entry is flushed.
  const directoryFd = openSync(directory, "r");
  try {
    fsyncSync(directoryFd);
  } finally {
    closeSync(directoryFd);
  }
}

/** Refuses a state file written for another epoch or time unit: its T would mean something else. */
export function checkStateMatchesLayout(path: string, record: StateRecord, layout: Layout): void {
  if (record.epochMs !== layout.epochMs || record.timeUnitMs !== layout.timeUnitMs) {
    throw new SnowflakeError(
      SnowflakeErrorCode.STATE_FILE_MISMATCH,
      `state file ${path} was written for layout ${record.layout} (epoch ${record.epochMs}, unit ${record.timeUnitMs} ms), not ${layout.name} (epoch ${layout.epochMs}, unit ${layout.timeUnitMs} ms)`,
    );
  }
}
