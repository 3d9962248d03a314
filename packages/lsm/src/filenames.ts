/** File names inside a database directory. PART OF THE FILE FORMAT (recovery parses them). */
import { join } from "node:path";

export type FileKind = "log" | "table" | "manifest" | "current" | "lock" | "temp";

export const CURRENT_FILE = "CURRENT";
export const LOCK_FILE = "LOCK";

function pad(number: number): string {
  return String(number).padStart(6, "0");
}

export function logFileName(number: number): string {
  return `${pad(number)}.log`;
}
export function tableFileName(number: number): string {
  return `${pad(number)}.sst`;
}
export function manifestFileName(number: number): string {
  return `MANIFEST-${pad(number)}`;
}
export function tempFileName(number: number): string {
  return `${pad(number)}.tmp`;
}

export function filePath(dir: string, name: string): string {
  return join(dir, name);
}

/** Classifies a directory entry; null for files the engine does not own. */
export function parseFileName(name: string): { kind: FileKind; number: number } | null {
  if (name === CURRENT_FILE) return { kind: "current", number: 0 };
  if (name === LOCK_FILE) return { kind: "lock", number: 0 };
  let match = /^(\d+)\.(log|sst|tmp)$/.exec(name);
  if (match !== null) {
    const kind = match[2] === "log" ? "log" : match[2] === "sst" ? "table" : "temp";
    return { kind, number: Number(match[1]) };
  }
  match = /^MANIFEST-(\d+)$/.exec(name);
  if (match !== null) return { kind: "manifest", number: Number(match[1]) };
  return null;
}
