/**
 * The fault harness (`scaleout kv chaos`): real node processes, concurrent
 * clients, kill -9, SIGSTOP/SIGCONT pauses and network partitions, then heal
 * and wait for convergence, and count what was lost.
 *
 * Partitions are made by the transport's link-level fault layer: each node on
 * one side is told (CLUSTER.FAULT DROP) to drop every peer frame to and from
 * the nodes on the other side. Client connections are not cut, so clients on
 * both sides keep writing — the interesting case.
 *
 * Workload (Jepsen's set test for Riak): each key holds a set of elements.
 * A client reads a key with KV.GET (context + siblings), adds one unique
 * element to the union of the siblings' sets and writes it back with KV.PUT
 * and the context. An element is acknowledged when its KV.PUT succeeded. After
 * healing and convergence the final union of each key's siblings must contain
 * every acknowledged element: a missing one is a LOST write. Sibling mode must
 * lose none; last-write-wins drops concurrent updates, which is counted for
 * comparison.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConflictMode } from "../cluster/index.js";
import { fetchStatus, setFault } from "./admin.js";
import type { ShellStatus } from "./driver.js";
import { LocalCluster, type LocalNode } from "./local-cluster.js";
import { RespClient } from "./resp-client.js";

export interface ChaosOptions {
  readonly cliEntry: string;
  readonly nodes: number;
  readonly clients: number;
  readonly keys: number;
  /** Length of the workload under faults. */
  readonly durationMs: number;
  readonly mode: ConflictMode;
  /** Give up waiting for convergence after this long. */
  readonly convergeTimeoutMs: number;
  /** Data root (default: a temp dir, removed afterwards). */
  readonly dataRoot?: string;
  readonly seed: number;
  readonly progress?: (message: string) => void;
  /**
   * First RESP, HTTP and peer port of node 1 (node i adds i − 1); default
   * free ports. Tests pass ports below the ephemeral range: a free port
   * checked now is bound by the node only later, and meanwhile any outgoing
   * connection may take it as its local port.
   */
  readonly portBases?: { respPortBase: number; httpPortBase: number; peerPortBase: number };
}

export const DEFAULT_CHAOS_OPTIONS: Omit<ChaosOptions, "cliEntry"> = {
  nodes: 5,
  clients: 6,
  keys: 12,
  durationMs: 30_000,
  mode: "siblings",
  convergeTimeoutMs: 120_000,
  seed: 1,
};

/** Tunables for chaos runs: anti-entropy every 20 ms so a pass over 256 partitions takes seconds. */
export const CHAOS_TUNING = { antiEntropyIntervalMs: 20 };

/** A client request that has not answered in this long counts as failed (a paused node). */
const CHAOS_REQUEST_TIMEOUT_MS = 3_000;

export interface ChaosReport {
  readonly mode: ConflictMode;
  readonly nodes: number;
  readonly durationMs: number;
  readonly writesAttempted: number;
  readonly writesAcknowledged: number;
  readonly lost: number;
  /** Reads that returned more than one sibling. */
  readonly readsWithSiblings: number;
  readonly maxSiblings: number;
  readonly faults: readonly string[];
  /** From the last heal to identical Merkle roots on every partition's replicas. */
  readonly convergeMs: number | null;
  readonly converged: boolean;
  readonly finalElements: number;
  /** Summed over the nodes at the end (each node counts since its last start). */
  readonly repairs: {
    readonly hintsStored: number;
    readonly hintsReplayed: number;
    readonly readRepairs: number;
    readonly antiEntropyKeysRepaired: number;
  };
}

function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("request timed out")), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function parseSet(value: unknown): string[] {
  if (!Buffer.isBuffer(value)) return [];
  try {
    const parsed = JSON.parse(value.toString("utf8")) as unknown;
    return Array.isArray(parsed) ? parsed.filter((e): e is string => typeof e === "string") : [];
  } catch {
    return [];
  }
}

/** True when every partition's home replicas report one root and nothing is in flight. */
export function convergedStatuses(all: readonly ShellStatus[]): boolean {
  const roots = new Map<string, Set<string>>();
  for (const status of all) {
    if (status.hintBacklog.length > 0 || status.transfersOut.length > 0) return false;
    if (!status.members.every((member) => member.up || member.status === "left")) return false;
    for (const [partition, root] of Object.entries(status.roots)) {
      const set = roots.get(partition) ?? new Set<string>();
      set.add(root);
      roots.set(partition, set);
    }
  }
  return [...roots.values()].every((set) => set.size === 1);
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const progress = options.progress ?? (() => {});
  const random = seeded(options.seed);
  const dataRoot = options.dataRoot ?? mkdtempSync(join(tmpdir(), "scaleout-kv-chaos-"));
  const cluster = await LocalCluster.start({
    nodes: options.nodes,
    dataRoot,
    cliEntry: options.cliEntry,
    bind: "127.0.0.1",
    respPortBase: options.portBases?.respPortBase ?? 0,
    httpPortBase: options.portBases?.httpPortBase ?? 0,
    peerPortBase: options.portBases?.peerPortBase ?? 0,
    dcs: 1,
    mode: options.mode,
    appendfsync: "everysec",
    logLevel: "warn",
    env: { SCALEOUT_KV_CLUSTER_TUNING: JSON.stringify(CHAOS_TUNING) },
  });
  const address = (node: LocalNode) => `127.0.0.1:${node.respPort}`;
  const running = () => cluster.nodes.filter((node) => node.process !== null);
  const counts = { attempted: 0, acknowledged: 0, readsWithSiblings: 0, maxSiblings: 0 };
  const acknowledged = new Map<string, Set<string>>();
  const faults: string[] = [];
  let stop = false;
  try {
    await waitFor(async () => {
      const all = await Promise.all(running().map((node) => fetchStatus(address(node))));
      return all.every((s) => s.members.length === options.nodes && s.members.every((m) => m.up));
    }, 30_000);
    progress(
      `${options.nodes} nodes up (mode ${options.mode}); workload for ${options.durationMs / 1000} s`,
    );

    const client = async (index: number) => {
      let connection: RespClient | null = null;
      let sequence = 0;
      while (!stop) {
        const node = cluster.nodes[Math.floor(random() * cluster.nodes.length)]!;
        try {
          connection ??= await RespClient.connect("127.0.0.1", node.respPort, 1_000);
          const key = `chaos:${Math.floor(random() * options.keys)}`;
          const read = (await withTimeout(
            connection.command(["KV.GET", key]),
            CHAOS_REQUEST_TIMEOUT_MS,
          )) as [Buffer, Buffer[]];
          const siblings = read[1];
          if (siblings.length > 1) counts.readsWithSiblings++;
          counts.maxSiblings = Math.max(counts.maxSiblings, siblings.length);
          const union = new Set<string>();
          for (const sibling of siblings)
            for (const element of parseSet(sibling)) union.add(element);
          const element = `c${index}-${++sequence}`;
          union.add(element);
          counts.attempted++;
          await withTimeout(
            connection.command(["KV.PUT", key, read[0], JSON.stringify([...union])]),
            CHAOS_REQUEST_TIMEOUT_MS,
          );
          counts.acknowledged++;
          const set = acknowledged.get(key) ?? new Set<string>();
          set.add(element);
          acknowledged.set(key, set);
        } catch {
          // Refused, timed out or the node is gone: not acknowledged; try elsewhere.
          connection?.close();
          connection = null;
          await sleep(20);
        }
      }
      connection?.close();
    };

    // A fault holds for its time or until the workload stops, so the run
    // usually ends under a fault and convergence is timed from a real heal.
    const hold = async (ms: number) => {
      const until = Date.now() + ms;
      while (!stop && Date.now() < until) await sleep(50);
    };
    const nemesis = async () => {
      while (!stop) {
        await hold(500 + random() * 1_000);
        if (stop) break;
        const kind = ["kill", "pause", "partition"][Math.floor(random() * 3)]!;
        const victim = cluster.nodes[Math.floor(random() * cluster.nodes.length)]!;
        const holdMs = 2_000 + random() * 2_000;
        if (kind === "kill") {
          faults.push(`kill -9 ${victim.id} (${Math.round(holdMs)} ms down)`);
          progress(faults.at(-1)!);
          await cluster.kill(victim.id);
          await hold(holdMs);
          await cluster.restart(victim.id);
        } else if (kind === "pause") {
          faults.push(`SIGSTOP ${victim.id} (${Math.round(holdMs)} ms)`);
          progress(faults.at(-1)!);
          cluster.signal(victim.id, "SIGSTOP");
          await hold(holdMs);
          cluster.signal(victim.id, "SIGCONT");
        } else {
          const ids = cluster.nodes.map((node) => node.id);
          const sideA = ids.filter(() => random() < 0.5);
          if (sideA.length === 0 || sideA.length === ids.length)
            sideA.splice(0, sideA.length, ids[0]!);
          const sideB = ids.filter((id) => !sideA.includes(id));
          faults.push(
            `partition {${sideA.join(",")}} | {${sideB.join(",")}} (${Math.round(holdMs)} ms)`,
          );
          progress(faults.at(-1)!);
          await Promise.all(
            cluster.nodes.map((node) =>
              setFault(address(node), sideA.includes(node.id) ? sideB : sideA).catch(() => {}),
            ),
          );
          await hold(holdMs);
          await Promise.all(
            cluster.nodes.map((node) => setFault(address(node), []).catch(() => {})),
          );
        }
      }
    };

    const workload = Array.from({ length: options.clients }, (_, index) => client(index + 1));
    const faulting = nemesis();
    await sleep(options.durationMs);
    stop = true;
    await Promise.all(workload);
    await faulting;

    // Heal everything, then time convergence.
    for (const node of cluster.nodes) {
      if (node.process === null) await cluster.restart(node.id);
      else node.process.kill("SIGCONT");
    }
    await Promise.all(cluster.nodes.map((node) => setFault(address(node), []).catch(() => {})));
    const healedAt = Date.now();
    progress(
      `healed; ${counts.acknowledged}/${counts.attempted} writes acknowledged; waiting for convergence`,
    );
    let finalStatuses: ShellStatus[] = [];
    const converged = await waitFor(async () => {
      finalStatuses = await Promise.all(cluster.nodes.map((node) => fetchStatus(address(node))));
      return convergedStatuses(finalStatuses);
    }, options.convergeTimeoutMs);
    const sum = (pick: (status: ShellStatus) => number) =>
      finalStatuses.reduce((total, status) => total + pick(status), 0);
    const repairs = {
      hintsStored: sum((s) => s.counters.hintsStored),
      hintsReplayed: sum((s) => s.counters.hintsReplayed),
      readRepairs: sum((s) => s.counters.readRepairs),
      antiEntropyKeysRepaired: sum((s) => s.counters.antiEntropyKeysRepaired),
    };
    const convergeMs = converged ? Date.now() - healedAt : null;

    // Final read of every key (R = all three replicas) and the loss count.
    const reader = await RespClient.connect("127.0.0.1", cluster.nodes[0]!.respPort);
    let lost = 0;
    let finalElements = 0;
    try {
      for (let k = 0; k < options.keys; k++) {
        const key = `chaos:${k}`;
        const [, siblings] = (await reader.command(["KV.GET", key, "R", "3"])) as [
          Buffer,
          Buffer[],
        ];
        const present = new Set<string>();
        for (const sibling of siblings)
          for (const element of parseSet(sibling)) present.add(element);
        finalElements += present.size;
        for (const element of acknowledged.get(key) ?? []) if (!present.has(element)) lost++;
      }
    } finally {
      reader.close();
    }
    return {
      mode: options.mode,
      nodes: options.nodes,
      durationMs: options.durationMs,
      writesAttempted: counts.attempted,
      writesAcknowledged: counts.acknowledged,
      lost,
      readsWithSiblings: counts.readsWithSiblings,
      maxSiblings: counts.maxSiblings,
      faults,
      convergeMs,
      converged,
      finalElements,
      repairs,
    };
  } finally {
    stop = true;
    await cluster.stop();
    if (options.dataRoot === undefined) rmSync(dataRoot, { recursive: true, force: true });
  }
}

async function waitFor(probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return true;
    } catch {
      // a node still starting: try again
    }
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

export function formatChaosReport(report: ChaosReport): string {
  const pct = (n: number, d: number) => (d === 0 ? "0.0" : ((100 * n) / d).toFixed(1));
  return [
    `mode ${report.mode}, ${report.nodes} nodes, ${report.durationMs / 1000} s under faults`,
    `  faults injected:      ${report.faults.length} (${report.faults.join("; ")})`,
    `  writes attempted:     ${report.writesAttempted}`,
    `  writes acknowledged:  ${report.writesAcknowledged} (${pct(report.writesAcknowledged, report.writesAttempted)} %)`,
    `  acknowledged lost:    ${report.lost} (${pct(report.lost, report.writesAcknowledged)} %)`,
    `  reads with siblings:  ${report.readsWithSiblings} (max ${report.maxSiblings} siblings)`,
    `  repairs (since each node's last start): hints stored ${report.repairs.hintsStored}, replayed ${report.repairs.hintsReplayed}, read repairs ${report.repairs.readRepairs}, anti-entropy keys ${report.repairs.antiEntropyKeysRepaired}`,
    `  time to converge:     ${report.convergeMs === null ? "did not converge" : `${(report.convergeMs / 1000).toFixed(1)} s`}`,
    "",
  ].join("\n");
}
