/**
 * Operator commands against a running node over its Redis-protocol port
 * (`scaleout kv status | leave | remove | fault`), and the text `status` prints.
 */
import { PARTITION_COUNT } from "../cluster/index.js";
import type { ShellStatus } from "./driver.js";
import { ShellError, ShellErrorCode } from "./errors.js";
import { RespReplyError, respCommand } from "./resp-client.js";

async function admin(node: string, args: string[]): Promise<unknown> {
  try {
    return await respCommand(node, args);
  } catch (error) {
    if (error instanceof RespReplyError) {
      throw new ShellError(ShellErrorCode.CLIENT, `${node} answered: ${error.text}`);
    }
    throw error;
  }
}

export async function fetchStatus(node: string): Promise<ShellStatus> {
  const reply = await admin(node, ["CLUSTER.STATUS"]);
  if (!Buffer.isBuffer(reply)) {
    throw new ShellError(ShellErrorCode.CLIENT, `${node} is not a cluster node (CLUSTER.STATUS)`);
  }
  return JSON.parse(reply.toString("utf8")) as ShellStatus;
}

export async function requestLeave(node: string): Promise<void> {
  await admin(node, ["CLUSTER.LEAVE"]);
}

export async function requestRemove(node: string, member: string): Promise<void> {
  await admin(node, ["CLUSTER.REMOVE", member]);
}

/** Set a node's fault layer: drop frames to/from these peers ([] heals). */
export async function setFault(node: string, drop: readonly string[]): Promise<void> {
  await admin(
    node,
    drop.length === 0 ? ["CLUSTER.FAULT", "HEAL"] : ["CLUSTER.FAULT", "DROP", ...drop],
  );
}

export function formatStatus(status: ShellStatus): string {
  const lines: string[] = [];
  lines.push(
    `node ${status.id}  actor ${status.actor}  mode ${status.mode}  keys ${status.keys}  ` +
      `partitions owned ${status.partitionsOwned}/${PARTITION_COUNT}  pending requests ${status.pendingRequests}`,
  );
  lines.push("", "members:");
  for (const member of status.members) {
    lines.push(
      `  ${member.id.padEnd(8)} ${member.up ? "up  " : "DOWN"}  ${member.status.padEnd(8)} ${member.dc}/${member.rack}  ${member.address}  heartbeat ${member.heartbeat}`,
    );
  }
  const backlog = status.hintBacklog.reduce((sum, entry) => sum + entry.hints, 0);
  lines.push(
    "",
    `hinted handoff backlog: ${backlog}${backlog === 0 ? "" : ` (${status.hintBacklog.map((h) => `${h.owner}: ${h.hints}`).join(", ")})`}`,
  );
  const ae = status.antiEntropy;
  const c = status.counters;
  lines.push(
    `anti-entropy: ${ae.exchanging === null ? "idle" : `exchanging partition ${ae.exchanging.partition} with ${ae.exchanging.peer}`}, ` +
      `cursor ${ae.partitionCursor}/${PARTITION_COUNT}, passes ${ae.passesCompleted}, ` +
      `exchanges ${c.antiEntropyExchanges} (in sync ${c.antiEntropyInSync}), buckets synced ${c.antiEntropyBucketsSynced}, keys repaired ${c.antiEntropyKeysRepaired}`,
  );
  lines.push(
    `read repairs ${c.readRepairs}, hints stored ${c.hintsStored} / replayed ${c.hintsReplayed} / expired ${c.hintsExpired}, tombstones reaped ${c.tombstonesReaped}`,
  );
  lines.push(`transfers out: ${status.transfersOut.length === 0 ? "none" : ""}`);
  for (const transfer of status.transfersOut) {
    lines.push(
      `  partition ${transfer.partition} → ${transfer.to}: ${transfer.keysAcknowledged}/${transfer.keysTotal} keys acknowledged`,
    );
  }
  lines.push(`transfers in: ${status.transfersIn.length === 0 ? "none" : ""}`);
  for (const transfer of status.transfersIn) {
    lines.push(
      `  partition ${transfer.partition} ← ${transfer.from}: ${transfer.keysReceived}/${transfer.keysTotal} keys`,
    );
  }
  for (const lane of status.transferLanes ?? []) {
    lines.push(
      `  pacing → ${lane.to}: ${lane.inFlightObjects}/${lane.windowObjects} objects in flight, ` +
        `round trip ${lane.smoothedRoundTripMs === null ? "?" : lane.smoothedRoundTripMs.toFixed(0)} ms, ` +
        `timeout ${lane.retransmitTimeoutMs.toFixed(0)} ms, timeouts ${lane.timeouts}`,
    );
  }
  lines.push(
    `transfers completed ${c.transfersCompleted}, keys streamed ${c.keysStreamed} (resent ${c.keysResent ?? 0})`,
  );
  const t = status.transport;
  lines.push(
    `transport: sent ${t.counters.framesSent}, received ${t.counters.framesReceived}, dropped (fault) ${t.counters.framesDroppedByFault}, dropped (queue full) ${t.counters.framesDroppedQueueFull}` +
      (t.dropped.length > 0 ? `; FAULT: dropping frames to/from ${t.dropped.join(", ")}` : ""),
  );
  return `${lines.join("\n")}\n`;
}
