/**
 * Entry point of the compaction thread: receives CompactionJobJson messages,
 * runs each job, replies with the output tables or the error.
 */
import { parentPort } from "node:worker_threads";
import { type CompactionJobJson, jobFromJson, runCompactionJob } from "./compaction-job.js";
import { LsmError } from "./errors.js";
import { tableMetaToJson } from "./version.js";

export type CompactionRequest =
  | { id: number; job: CompactionJobJson }
  | { id: number; cancel: true };

export type CompactionReply =
  | { id: number; tables: ReturnType<typeof tableMetaToJson>[] }
  | { id: number; error: { message: string; code: string | null } };

const port = parentPort;
if (port === null) throw new Error("compaction-worker.ts must run in a worker thread");

/** Jobs asked to stop (their database is closing); checked between chunks of entries. */
const cancelled = new Set<number>();

port.on("message", (request: CompactionRequest) => {
  if ("cancel" in request) {
    cancelled.add(request.id);
    return;
  }
  runCompactionJob(jobFromJson(request.job), () => cancelled.has(request.id))
    .finally(() => cancelled.delete(request.id))
    .then(
      (tables) => {
        const reply: CompactionReply = { id: request.id, tables: tables.map(tableMetaToJson) };
        port.postMessage(reply);
      },
      (error: unknown) => {
        const reply: CompactionReply = {
          id: request.id,
          error: {
            message: error instanceof Error ? error.message : String(error),
            code: error instanceof LsmError ? error.code : null,
          },
        };
        port.postMessage(reply);
      },
    );
});
