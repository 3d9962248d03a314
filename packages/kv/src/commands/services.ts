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
  /** One counter object per command name, kept across resets (the dispatcher holds them). */
  private readonly counters = new Map<string, CallCounter>();

  /** The counter of command `name`: the dispatcher bumps it without a map lookup per call. */
  counter(name: string): CallCounter {
    let counter = this.counters.get(name);
    if (counter === undefined) {
      counter = { calls: 0 };
      this.counters.set(name, counter);
    }
    return counter;
  }

  countCall(name: string): void {
    this.totalCommandsProcessed++;
    this.counter(name).calls++;
  }

  /** Calls per command name since start or the last reset (INFO commandstats, /metrics). */
  get calls(): Map<string, number> {
    const calls = new Map<string, number>();
    for (const [name, counter] of this.counters) {
      if (counter.calls > 0) calls.set(name, counter.calls);
    }
    return calls;
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
    for (const counter of this.counters.values()) counter.calls = 0;
  }
}

export interface CallCounter {
  calls: number;
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
