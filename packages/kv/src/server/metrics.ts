/**
 * Prometheus metrics for /metrics. Values are read from the node's plain
 * counters at scrape time (collect callbacks), so the command path pays
 * nothing for metrics. Each node has its own registry (several nodes can
 * share a process in tests and in the cluster).
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { ServerStats } from "../commands/services.js";
import type { KeyValueStore } from "../storage/store.js";

export function createMetrics(
  store: KeyValueStore,
  stats: ServerStats,
  connectedClients: () => number,
): Registry {
  const registry = new Registry();
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };
  counter(
    "kv_commands_processed_total",
    "Commands executed (all protocols over RESP).",
    () => stats.totalCommandsProcessed,
  );
  counter("kv_keyspace_hits_total", "Reads that found the key.", () => stats.keyspaceHits);
  counter(
    "kv_keyspace_misses_total",
    "Reads that did not find the key.",
    () => stats.keyspaceMisses,
  );
  counter(
    "kv_expired_keys_total",
    "Keys removed because their TTL passed.",
    () => store.stats().expiredKeys,
  );
  counter(
    "kv_evicted_keys_total",
    "Keys evicted to stay under maxmemory.",
    () => store.stats().evictedKeys,
  );
  counter(
    "kv_connections_received_total",
    "Connections accepted.",
    () => stats.totalConnectionsReceived,
  );
  counter(
    "kv_rejected_connections_total",
    "Connections refused (maxclients).",
    () => stats.rejectedConnections,
  );
  counter("kv_error_replies_total", "Error replies sent.", () => stats.totalErrorReplies);
  counter(
    "kv_net_input_bytes_total",
    "Bytes read from RESP clients.",
    () => stats.totalNetInputBytes,
  );
  counter(
    "kv_net_output_bytes_total",
    "Bytes written to RESP clients.",
    () => stats.totalNetOutputBytes,
  );
  new Counter({
    name: "kv_command_calls_total",
    help: "Calls per command.",
    labelNames: ["command"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [command, calls] of stats.calls) this.inc({ command }, calls);
    },
  });
  new Gauge({
    name: "kv_connected_clients",
    help: "Open RESP connections.",
    registers: [registry],
    collect() {
      this.set(connectedClients());
    },
  });
  new Gauge({
    name: "kv_used_memory_bytes",
    help: "Bytes accounted to entries (memory engine).",
    registers: [registry],
    collect() {
      this.set(store.stats().usedMemoryBytes ?? 0);
    },
  });
  new Gauge({
    name: "kv_maxmemory_bytes",
    help: "maxmemory (0 = unlimited).",
    registers: [registry],
    collect() {
      this.set(store.stats().maxMemoryBytes);
    },
  });
  new Gauge({
    name: "kv_keys",
    help: "Keys held (memory engine; the lsm engine does not keep a count).",
    registers: [registry],
    collect() {
      this.set(store.stats().keys ?? 0);
    },
  });
  return registry;
}
