import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TempDir {
  dir: string;
  /** Removes the directory and everything in it; safe to call twice. */
  cleanup: () => void;
}

/** A fresh directory under the OS temp dir, named `scaleout-<prefix>-XXXXXX`. */
export function tempDir(prefix: string): TempDir {
  const dir = mkdtempSync(join(tmpdir(), `scaleout-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
