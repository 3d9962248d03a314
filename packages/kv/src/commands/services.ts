/**
 * What the command layer needs from the node around it: settings, counters,
 * the client list and shutdown. Declared here as an interface so commands do
 * not depend on the network code (and the cluster can provide its own).
 */
import type { ClientState } from "./types.js";

export class ServerStats {
  totalConnectionsReceived = 0;
  rejectedConnections = 0;
  totalCommandsProcessed = 0;
  keyspaceHits = 0;
  keyspaceMisses = 0;
  totalNetInputBytes = 0;
  totalNetOutputBytes = 0;
  totalErrorReplies = 0;
  /** Calls per command name (INFO commandstats, /metrics). */
  readonly calls = new Map<string, number>();

  countCall(name: string): void {
    this.totalCommandsProcessed++;
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
  }

  reset(): void {
    this.totalConnectionsReceived = 0;
    this.rejectedConnections = 0;
    this.totalCommandsProcessed = 0;
    this.keyspaceHits = 0;
    this.keyspaceMisses = 0;
    this.totalNetInputBytes = 0;
    this.totalNetOutputBytes = 0;
    this.totalErrorReplies = 0;
    this.calls.clear();
  }
}

/** Result of CONFIG SET for one parameter: undefined on success, else the reason. */
export type ConfigSetError =
  | { kind: "unknown" }
  | { kind: "immutable" }
  | { kind: "invalid"; reason: string };

export interface NodeServices {
  readonly stats: ServerStats;
  readonly startedAtMs: number;
  readonly runId: string;
  readonly tcpPort: number;
  /** requirepass; undefined = no password. */
  readonly requirePass: string | undefined;
  readonly maxKeyBytes: number;
  readonly maxBulkBytes: number;
  /** Active appendfsync (lsm) or "no" (memory), for INFO persistence. */
  readonly persistence: { enabled: boolean; appendfsync: string; dataDir: string };
  listClients(): readonly ClientState[];
  /** All settings CONFIG GET can show, as Redis-style name → string. */
  configEntries(): [string, string][];
  configSet(name: string, value: string): ConfigSetError | undefined;
  /** Starts a graceful shutdown (SHUTDOWN, SIGTERM). */
  requestShutdown(reason: string): void;
}
