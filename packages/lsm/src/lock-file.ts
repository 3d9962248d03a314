/**
 * The LOCK file keeps a second process from opening the same directory.
 *
 * It is created with O_CREAT|O_EXCL ("wx") and holds the owner's pid. If it
 * already exists:
 * - and names a pid that is alive (process.kill(pid, 0) succeeds, or fails
 *   with EPERM), or our own pid, open fails with SCALEOUT_LSM_ERR_LOCKED;
 * - and names a pid that no longer exists on this host (ESRCH), or holds no
 *   pid, the lock is stale (its owner crashed): it is replaced and a warning is
 *   logged.
 * Limits: the pid check is only meaningful on the host that wrote it (do not
 * share a directory over a network file system), and a recycled pid makes a
 * stale lock look alive; then remove LOCK by hand after checking no process uses
 * the directory.
 */
import { open, readFile, unlink } from "node:fs/promises";
import { LsmError, LsmErrorCode } from "./errors.js";
import type { Logger } from "./types.js";

export class LockFile {
  private constructor(readonly path: string) {}

  static async acquire(path: string, logger: Logger | undefined): Promise<LockFile> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, "wx");
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
        await handle.close();
        return new LockFile(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const owner = await readOwner(path);
      if (owner !== null && (owner === process.pid || isAlive(owner))) {
        throw new LsmError(
          LsmErrorCode.LOCKED,
          `database ${path} is locked by process ${owner}; only one process may open a database directory`,
        );
      }
      logger?.warn(
        { path, stalePid: owner },
        "removing stale LOCK file left by a process that exited",
      );
      await unlink(path).catch(() => undefined);
    }
    throw new LsmError(
      LsmErrorCode.LOCKED,
      `could not acquire ${path}: another process keeps creating it`,
    );
  }

  async release(): Promise<void> {
    await unlink(this.path).catch(() => undefined);
  }
}

async function readOwner(path: string): Promise<number | null> {
  try {
    const text = (await readFile(path, "utf8")).trim();
    const pid = Number(text);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
