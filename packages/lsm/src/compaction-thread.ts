/**
 * Runs compaction jobs on a worker thread, so merging (CPU-bound in
 * JavaScript: decoding, comparing, re-encoding every entry) uses a second
 * core instead of the event loop that serves reads and writes, the way
 * LevelDB runs compaction on its background thread.
 *
 * One thread per process, shared by every open database (each has at most
 * one job in flight), started on the first compaction and unreferenced while
 * idle so it never keeps the process alive. A database that closes cancels its
 * job, which stops at its next chunk boundary; partial outputs are named by no
 * manifest and the next obsolete-file sweep deletes them.
 */
import { Worker } from "node:worker_threads";
import { type CompactionJob, jobToJson } from "./compaction-job.js";
import type { CompactionReply, CompactionRequest } from "./compaction-worker.js";
import { LsmError, type LsmErrorCodeValue } from "./errors.js";
import { type TableMeta, tableMetaFromJson } from "./version.js";

interface Pending {
  resolve: (tables: TableMeta[]) => void;
  reject: (error: unknown) => void;
}

class CompactionThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  run(job: CompactionJob): Promise<TableMeta[]> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    // Keep the process alive while a job runs; an idle thread does not.
    worker.ref();
    return new Promise<TableMeta[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: CompactionRequest = { id, job: jobToJson(job) };
      worker.postMessage(request);
    });
  }

  /** Asks the thread to stop job `id`; its promise then rejects (MergeStopped). */
  cancel(id: number): void {
    if (this.worker === null || !this.pending.has(id)) return;
    const request: CompactionRequest = { id, cancel: true };
    this.worker.postMessage(request);
  }

  /** Id the next `run` will use (so the caller can cancel it). */
  peekNextId(): number {
    return this.nextId;
  }

  private start(): Worker {
    const here = import.meta.url;
    let worker: Worker;
    if (here.endsWith(".ts")) {
      // Running from TypeScript sources (tests): load the worker through tsx.
      const url = new URL("./compaction-worker.ts", here).href;
      worker = new Worker(
        `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); })`,
        { eval: true },
      );
    } else {
      worker = new Worker(new URL("./compaction-worker.js", here));
    }
    worker.on("message", (reply: CompactionReply) => {
      const pending = this.pending.get(reply.id);
      if (pending === undefined) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ("error" in reply) {
        const { message, code } = reply.error;
        pending.reject(
          code === null ? new Error(message) : new LsmError(code as LsmErrorCodeValue, message),
        );
      } else {
        pending.resolve(reply.tables.map(tableMetaFromJson));
      }
    });
    worker.on("error", (error) => this.failAll(error));
    worker.on("exit", (code) => {
      if (this.worker === worker) this.worker = null;
      this.failAll(new Error(`compaction thread exited with code ${code}`));
    });
    // An idle compaction thread must not keep the process alive.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private failAll(error: unknown): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
  }
}

/** The process-wide compaction thread. */
export const compactionThread = new CompactionThread();
