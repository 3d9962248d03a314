/**
 * Service half of the `ratelimit` suite (issue 6): `scaleout ratelimit
 * serve` (started in this process, on one private redis-server) answering
 * concurrent clients over HTTP (`POST /v1/check`) and gRPC (envoy's
 * ShouldRateLimit): decisions/s, p99 latency, and Redis calls per decision,
 * with the local over-limit cache on and off.
 *
 * The peer is rate-limiter-flexible's RateLimiterRedis behind the same
 * minimal HTTP/JSON API (it has no service of its own); its
 * `inMemoryBlockOnConsumed` option is the equivalent of our local over-limit
 * cache, so the "cache on" rows compare against it with that option.
 */
import { writeFileSync } from "node:fs";
import { Agent, createServer, request as httpRequest, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { type BenchContext, type BenchResult, quantile, result } from "@scaleout/bench";
import {
  loadRlsService,
  type RateLimitService,
  resolveServiceConfig,
  startRateLimitService,
} from "@scaleout/ratelimit";
import { startRedisServer, tempDir } from "@scaleout/testkit";
import { Redis } from "ioredis";
import { pino } from "pino";
import { rlsClient, shouldRateLimit } from "../test/helpers/rls-client.js";

interface PeerLimiter {
  consume(key: string, points?: number): Promise<unknown>;
}
type PeerRedisConstructor = new (options: Record<string, unknown>) => PeerLimiter;

const require = createRequire(import.meta.url);
const { RateLimiterRedis } = require("rate-limiter-flexible") as {
  RateLimiterRedis: PeerRedisConstructor;
};
const PEER_NAME = `rate-limiter-flexible@${(require("rate-limiter-flexible/package.json") as { version: string }).version} RateLimiterRedis behind the same HTTP API`;

const CONCURRENCY = 50;
/** Connections, JIT and script caches settle before anything is measured. */
const WARM_UP_MS = 400;
/** Under-limit workload: many users, a limit nobody reaches. */
const UNDER_LIMIT = 1_000_000;
/** Over-limit workload: few users hammering a small limit, so most answers are OVER_LIMIT. */
const OVER_LIMIT_USERS = 200;
const OVER_LIMIT = 20;

const RULES = `
domain: bench
descriptors:
  - key: user
    rate_limit: {unit: minute, requests_per_unit: ${UNDER_LIMIT}}
  - key: abuser
    rate_limit: {unit: minute, requests_per_unit: ${OVER_LIMIT}}
`;

interface Load {
  decisionsPerSecond: number;
  p99Ms: number;
  overLimitShare: number;
}

type Call = (n: number) => Promise<boolean>;

/** `CONCURRENCY` closed-loop clients for durationMs; returns throughput, p99 and the share denied. */
async function drive(call: Call, durationMs: number): Promise<Load> {
  const latencies: number[] = [];
  let n = 0;
  let denied = 0;
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        if (!(await call(n++))) denied++;
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    decisionsPerSecond: latencies.length / seconds,
    p99Ms: quantile(latencies, 0.99),
    overLimitShare: denied / latencies.length,
  };
}

function httpCaller(port: number, descriptorKey: string, users: number): Call {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  return (n) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({
        domain: "bench",
        descriptors: [{ entries: [{ key: descriptorKey, value: `u${n % users}` }] }],
      });
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port,
          path: "/v1/check",
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode === 200));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
}

function grpcCaller(
  port: number,
  descriptorKey: string,
  users: number,
): { call: Call; close: () => void } {
  const client = rlsClient(port);
  const call: Call = async (n) =>
    (
      await shouldRateLimit(client, {
        domain: "bench",
        descriptors: [{ entries: [{ key: descriptorKey, value: `u${n % users}` }] }],
      })
    ).overall_code === "OK";
  return { call, close: () => client.close() };
}

/** rate-limiter-flexible behind the same POST /v1/check JSON API. */
async function startPeerService(
  redisPort: number,
  blockLocally: boolean,
): Promise<{ port: number; close: () => Promise<void>; client: Redis }> {
  const client = new Redis({ port: redisPort, host: "127.0.0.1", enableAutoPipelining: true });
  const limiters = {
    user: new RateLimiterRedis({
      storeClient: client,
      points: UNDER_LIMIT,
      duration: 60,
      keyPrefix: `peer${blockLocally}u`,
    }),
    abuser: new RateLimiterRedis({
      storeClient: client,
      points: OVER_LIMIT,
      duration: 60,
      keyPrefix: `peer${blockLocally}a`,
      ...(blockLocally ? { inMemoryBlockOnConsumed: OVER_LIMIT } : {}),
    }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        domain: string;
        descriptors: { entries: { key: string; value: string }[] }[];
      };
      const entry = body.descriptors[0]!.entries[0]!;
      const limiter = limiters[entry.key as keyof typeof limiters];
      limiter.consume(`${body.domain}_${entry.key}_${entry.value}`, 1).then(
        () => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end('{"overall_code":"OK"}');
        },
        () => {
          res.writeHead(429, { "content-type": "application/json" });
          res.end('{"overall_code":"OVER_LIMIT"}');
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    client,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      client.disconnect();
    },
  };
}

/**
 * The ceiling grpc-js itself reaches here: the same proto, a handler that
 * answers a constant, same client setup. Reported next to the gRPC figures.
 */
async function grpcEmptyHandlerCeiling(durationMs: number): Promise<number> {
  const server = new grpc.Server();
  server.addService(loadRlsService().service, {
    ShouldRateLimit: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { overall_code: "OK", statuses: [{ code: "OK", limit_remaining: 1 }] }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  const client = grpcCaller(port, "user", 10_000);
  try {
    await drive(client.call, WARM_UP_MS);
    return (await drive(client.call, durationMs)).decisionsPerSecond;
  } finally {
    client.close();
    server.forceShutdown();
  }
}

async function scriptCalls(admin: Redis): Promise<number> {
  const info = await admin.info("commandstats");
  let total = 0;
  for (const name of ["evalsha", "eval"])
    total += Number(info.match(new RegExp(`cmdstat_${name}:calls=(\\d+)`))?.[1] ?? 0);
  return total;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export async function serviceResults(context: BenchContext): Promise<BenchResult[]> {
  const durationMs = context.quick ? 600 : 2500;
  const rounds = context.quick ? 2 : 3;
  const redis = await startRedisServer();
  const admin = new Redis({ port: redis.port, host: "127.0.0.1" });
  const scratch = tempDir("rl-bench");
  const dir = scratch.dir;
  writeFileSync(join(dir, "rules.yaml"), RULES);
  const results: BenchResult[] = [];
  const services: RateLimitService[] = [];
  try {
    const start = async (localCache: boolean) => {
      const service = await startRateLimitService(
        resolveServiceConfig({
          flags: {
            rules: join(dir, "rules.yaml"),
            httpPort: 0,
            grpcPort: 0,
            redisUrl: redis.url,
            localCache,
            keyPrefix: `svc${localCache}:`,
          },
        }),
        { logger: pino({ level: "silent" }) },
      );
      services.push(service);
      return service;
    };
    const cached = await start(true);
    const uncached = await start(false);
    const measure = async (
      label: string,
      call: Call,
    ): Promise<Load & { redisCallsPerDecision: number }> => {
      const before = await scriptCalls(admin);
      const load = await drive(call, durationMs);
      const calls = (await scriptCalls(admin)) - before;
      const redisCallsPerDecision = calls / (load.decisionsPerSecond * (durationMs / 1000));
      context.progress(
        `${label}: ${Math.round(load.decisionsPerSecond)}/s, p99 ${load.p99Ms.toFixed(2)} ms, ${round3(redisCallsPerDecision)} Redis calls/decision`,
      );
      return { ...load, redisCallsPerDecision };
    };
    type Measured = Awaited<ReturnType<typeof measure>>;
    const medianRound = (list: Measured[]): Measured =>
      [...list].sort((a, b) => a.decisionsPerSecond - b.decisionsPerSecond)[list.length >> 1]!;
    /** Ours and the peer alternate round by round; each side's median round is reported. */
    const compare = async (label: string, ours: Call, peer: Call) => {
      await drive(ours, WARM_UP_MS);
      await drive(peer, WARM_UP_MS);
      const oursRounds: Measured[] = [];
      const peerRounds: Measured[] = [];
      for (let round = 0; round < rounds; round++) {
        if (round % 2 === 0) {
          oursRounds.push(await measure(`ours ${label}`, ours));
          peerRounds.push(await measure(`peer ${label}`, peer));
        } else {
          peerRounds.push(await measure(`peer ${label}`, peer));
          oursRounds.push(await measure(`ours ${label}`, ours));
        }
      }
      return { ours: medianRound(oursRounds), peer: medianRound(peerRounds) };
    };
    const single = async (label: string, call: Call) => {
      await drive(call, WARM_UP_MS);
      const list: Measured[] = [];
      for (let round = 0; round < rounds; round++) list.push(await measure(`ours ${label}`, call));
      return medianRound(list);
    };

    const peerPlain = await startPeerService(redis.port, false);
    const peerBlocking = await startPeerService(redis.port, true);
    try {
      // Under the limit: the cache never engages; ours over HTTP and gRPC, the peer over HTTP.
      const under = await compare(
        "HTTP, under limit",
        httpCaller(uncached.httpPort, "user", 10_000),
        httpCaller(peerPlain.port, "user", 10_000),
      );
      results.push(
        result(
          `service HTTP /v1/check, under limit, ${CONCURRENCY} clients`,
          "decisions/s",
          under.ours.decisionsPerSecond,
          { name: PEER_NAME, value: under.peer.decisionsPerSecond },
          {
            oursRedisCallsPerDecision: round3(under.ours.redisCallsPerDecision),
            peerRedisCallsPerDecision: round3(under.peer.redisCallsPerDecision),
          },
        ),
        result(
          `service HTTP /v1/check p99, under limit, ${CONCURRENCY} clients`,
          "ms",
          under.ours.p99Ms,
          { name: PEER_NAME, value: under.peer.p99Ms },
        ),
      );
      const grpcUnder = grpcCaller(uncached.grpcPort, "user", 10_000);
      const oursGrpc = await single("gRPC, under limit", grpcUnder.call);
      grpcUnder.close();
      const ceiling = await grpcEmptyHandlerCeiling(durationMs);
      context.progress(`grpc-js with an empty handler: ${Math.round(ceiling)}/s`);
      results.push(
        result(
          `service gRPC ShouldRateLimit, under limit, ${CONCURRENCY} clients`,
          "decisions/s",
          oursGrpc.decisionsPerSecond,
          null,
          {
            redisCallsPerDecision: round3(oursGrpc.redisCallsPerDecision),
            grpcJsEmptyHandlerPerSecond: Math.round(ceiling),
          },
        ),
        result(
          `service gRPC ShouldRateLimit p99, under limit, ${CONCURRENCY} clients`,
          "ms",
          oursGrpc.p99Ms,
          null,
        ),
      );

      // Over the limit: most answers are OVER_LIMIT; the local cache (and the peer's in-memory block) skip Redis.
      for (const localCache of [false, true]) {
        const service = localCache ? cached : uncached;
        const peer = localCache ? peerBlocking : peerPlain;
        const label = localCache ? "local over-limit cache on" : "local over-limit cache off";
        const peerLabel = localCache ? `${PEER_NAME}, inMemoryBlockOnConsumed` : PEER_NAME;
        const over = await compare(
          `HTTP, over limit, ${label}`,
          httpCaller(service.httpPort, "abuser", OVER_LIMIT_USERS),
          httpCaller(peer.port, "abuser", OVER_LIMIT_USERS),
        );
        results.push(
          result(
            `service HTTP, ${OVER_LIMIT_USERS} users over limit, ${label}`,
            "decisions/s",
            over.ours.decisionsPerSecond,
            { name: peerLabel, value: over.peer.decisionsPerSecond },
            {
              oursP99Ms: round3(over.ours.p99Ms),
              peerP99Ms: round3(over.peer.p99Ms),
              oursRedisCallsPerDecision: round3(over.ours.redisCallsPerDecision),
              peerRedisCallsPerDecision: round3(over.peer.redisCallsPerDecision),
              oursOverLimitShare: round3(over.ours.overLimitShare),
            },
          ),
        );
        const grpcOver = grpcCaller(service.grpcPort, "abuser", OVER_LIMIT_USERS);
        const oursGrpcOver = await single(`gRPC, over limit, ${label}`, grpcOver.call);
        grpcOver.close();
        results.push(
          result(
            `service gRPC, ${OVER_LIMIT_USERS} users over limit, ${label}`,
            "decisions/s",
            oursGrpcOver.decisionsPerSecond,
            null,
            {
              p99Ms: round3(oursGrpcOver.p99Ms),
              redisCallsPerDecision: round3(oursGrpcOver.redisCallsPerDecision),
            },
          ),
        );
      }
    } finally {
      await peerPlain.close();
      await peerBlocking.close();
    }
  } finally {
    for (const service of services) await service.close();
    admin.disconnect();
    await redis.stop();
    scratch.cleanup();
  }
  return results;
}
