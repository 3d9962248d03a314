/**
 * ClusterClient: the cluster-aware client (the Dynamo paper's client-driven
 * coordination). It learns the members from any node's CLUSTER.STATUS, builds
 * the same partition table as the nodes (ClusterRouter over hashRingFactory),
 * and sends each request straight to one of the key's home replicas over a
 * pipelined RESP connection, skipping the forwarding hop. A connection failure
 * marks that node unreachable for a while and the request goes to another
 * replica (or any node, which forwards). `refresh()` re-reads the membership.
 */
import { ClusterRouter, hashRingFactory, type NodeId } from "../cluster/index.js";
import { parseMemberAddress } from "./address.js";
import { fetchStatus } from "./admin.js";
import { clusterKey } from "./commands.js";
import { ShellError, ShellErrorCode } from "./errors.js";
import { RespClient, RespReplyError, type RespValue } from "./resp-client.js";

/** A node that failed a connection is skipped for this long. */
const UNREACHABLE_BACKOFF_MS = 1_000;

interface Endpoint {
  host: string;
  port: number;
  connection: Promise<RespClient> | null;
  unreachableUntilMs: number;
}

export class ClusterClient {
  private readonly endpoints = new Map<NodeId, Endpoint>();

  private constructor(
    private readonly seeds: readonly string[],
    private readonly router: ClusterRouter,
  ) {}

  /** Connect through any of `seeds` (host:respPort). */
  static async connect(seeds: readonly string[]): Promise<ClusterClient> {
    const client = new ClusterClient(seeds, new ClusterRouter(hashRingFactory, []));
    await client.refresh();
    return client;
  }

  /** Re-read the member list from the first seed or member that answers. */
  async refresh(): Promise<void> {
    const candidates = [
      ...this.seeds,
      ...[...this.endpoints.values()].map((e) => `${e.host}:${e.port}`),
    ];
    for (const candidate of candidates) {
      try {
        const status = await fetchStatus(candidate);
        const members = status.members.filter((m) => m.status === "normal");
        for (const member of status.members) {
          const address = parseMemberAddress(member.address);
          const existing = this.endpoints.get(member.id);
          if (existing === undefined || existing.port !== address.respPort) {
            this.endpoints.set(member.id, {
              host: address.host,
              port: address.respPort,
              connection: null,
              unreachableUntilMs: 0,
            });
          }
        }
        // The same ring as the nodes: id, data center, rack and weight.
        this.router.update(
          members.map((m) => ({
            id: m.id,
            dc: m.dc,
            rack: m.rack,
            weight: status.weights[m.id] ?? 1,
          })),
        );
        return;
      } catch {
        // try the next one
      }
    }
    throw new ShellError(
      ShellErrorCode.CLIENT,
      `no cluster node answered (${candidates.join(", ")})`,
    );
  }

  /** The node a request for `key` goes to (a reachable home replica, in turn). */
  coordinatorFor(key: Uint8Array | string): NodeId {
    const now = Date.now();
    const reachable = (id: NodeId) => (this.endpoints.get(id)?.unreachableUntilMs ?? 0) <= now;
    const chosen = this.router.coordinatorFor(clusterKey(key), reachable);
    if (chosen !== null) return chosen;
    const any = [...this.endpoints.keys()].filter(reachable);
    if (any.length === 0) throw new ShellError(ShellErrorCode.CLIENT, "no reachable cluster node");
    return any[Math.floor(Math.random() * any.length)]!;
  }

  /** Run one command for `key` on its coordinator; one retry elsewhere on a connection failure. */
  async command(
    key: Uint8Array | string,
    args: readonly (string | Uint8Array | number)[],
  ): Promise<RespValue> {
    for (let attempt = 0; ; attempt++) {
      const id = this.coordinatorFor(key);
      const endpoint = this.endpoints.get(id)!;
      try {
        endpoint.connection ??= RespClient.connect(endpoint.host, endpoint.port);
        const connection = await endpoint.connection;
        if (connection.broken) throw new ShellError(ShellErrorCode.CLIENT, "connection lost");
        return await connection.command(args);
      } catch (error) {
        if (error instanceof RespReplyError || attempt >= 1) throw error;
        endpoint.connection = null;
        endpoint.unreachableUntilMs = Date.now() + UNREACHABLE_BACKOFF_MS;
      }
    }
  }

  get(key: string | Uint8Array): Promise<RespValue> {
    return this.command(key, ["GET", key]);
  }

  set(key: string | Uint8Array, value: string | Uint8Array): Promise<RespValue> {
    return this.command(key, ["SET", key, value]);
  }

  incrby(key: string | Uint8Array, delta: number): Promise<RespValue> {
    return this.command(key, ["INCRBY", key, delta]);
  }

  /** KV.GET: [context, sibling values]. */
  async kvGet(key: string | Uint8Array): Promise<{ context: string; siblings: Buffer[] }> {
    const [context, siblings] = (await this.command(key, ["KV.GET", key])) as [Buffer, Buffer[]];
    return { context: context.toString("latin1"), siblings };
  }

  async kvPut(
    key: string | Uint8Array,
    context: string,
    value: string | Uint8Array,
  ): Promise<string> {
    const reply = (await this.command(key, ["KV.PUT", key, context, value])) as Buffer;
    return reply.toString("latin1");
  }

  close(): void {
    for (const endpoint of this.endpoints.values()) {
      void endpoint.connection?.then((c) => c.close()).catch(() => {});
      endpoint.connection = null;
    }
  }
}
