/**
 * Benchmark suite `ids`: ids per second of one generator of ours against
 * @sapphire/snowflake (the popular npm Snowflake package), in the same run,
 * alternating round by round, with the duplicates each side produced counted
 * exactly (every id of a round is kept and sorted afterwards). Ours is also
 * reported as a fraction of the layout's theoretical limit (twitter: 4096 ids
 * per ms = 4.096 M/s), and the HTTP service's ids per second through the batch
 * endpoint (server in-process on 127.0.0.1:0).
 *
 * Both sides use the twitter layout (epoch 1288834974657, 5-bit datacenter and
 * machine, 12-bit sequence). The peer has no batch call; its batches are loops.
 */
import { readFileSync } from "node:fs";
import { Snowflake } from "@sapphire/snowflake";
import { alternate, type BenchResult, defineSuite, result } from "@scaleout/bench";
import {
  DEFAULT_CONFIG,
  PRESETS,
  SnowflakeGenerator,
  startIdService,
  theoreticalIdsPerSecond,
} from "@scaleout/snowflake";

// The peer's exports map hides package.json, so its version is read from the file.
const PEER_VERSION = (
  JSON.parse(
    readFileSync(
      new URL("../../../node_modules/@sapphire/snowflake/package.json", import.meta.url),
      "utf8",
    ),
  ) as { version: string }
).version;
const PEER_NAME = `@sapphire/snowflake@${PEER_VERSION}`;

const layout = PRESETS.twitter;
const THEORETICAL_IDS_PER_SECOND = theoreticalIdsPerSecond(layout);
const BATCH_SIZE = 4_096;
const HTTP_BATCH = 10_000;
const HTTP_CONCURRENCY = 4;
const SETTLE_PAUSE_MS = 200;
const pauseCell = new Int32Array(new SharedArrayBuffer(4));
/** Lag allowance of the third variant: about a few scheduler time slices on a busy machine. */
const LAG_MS = 50;

/** Counts ids that equal another id in the list (sorts a copy). */
function countDuplicates(ids: BigUint64Array): number {
  const sorted = ids.slice().sort();
  let duplicates = 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) duplicates++;
  return duplicates;
}

interface Tally {
  duplicates: number;
  ids: number;
}

/** Runs `fill` to produce exactly `count` ids into a buffer; returns ids/s and tallies duplicates. */
function timed(
  count: number,
  tally: Tally,
  fill: (out: BigUint64Array) => void,
  prepare: () => void = () => {},
): number {
  const out = new BigUint64Array(count);
  // A short idle pause before each timed run, for both sides: the previous run and the
  // duplicate count were CPU-bound, and on a shared machine a thread that just used its
  // share waits longer for the CPU; the pause lets that settle.
  Atomics.wait(pauseCell, 0, 0, SETTLE_PAUSE_MS);
  prepare();
  const start = performance.now();
  fill(out);
  const seconds = (performance.now() - start) / 1000;
  tally.duplicates += countDuplicates(out);
  tally.ids += count;
  return count / seconds;
}

function oursSingle(generator: SnowflakeGenerator) {
  return (out: BigUint64Array) => {
    for (let i = 0; i < out.length; i++) out[i] = generator.next();
  };
}

function oursBatch(generator: SnowflakeGenerator) {
  return (out: BigUint64Array) => {
    for (let offset = 0; offset < out.length; offset += BATCH_SIZE) {
      generator.fill(out.subarray(offset, Math.min(offset + BATCH_SIZE, out.length)));
    }
  };
}

function peerSingle(peer: Snowflake) {
  return (out: BigUint64Array) => {
    for (let i = 0; i < out.length; i++) out[i] = peer.generate();
  };
}

async function httpIdsPerSecond(
  url: string,
  durationMs: number,
): Promise<{ idsPerSecond: number; requests: number }> {
  let ids = 0;
  let requests = 0;
  const end = performance.now() + durationMs;
  const start = performance.now();
  const worker = async () => {
    while (performance.now() < end) {
      const response = await fetch(`${url}/ids?count=${HTTP_BATCH}`);
      const body = await response.text();
      if (response.status !== 200) throw new Error(`GET /ids answered ${response.status}: ${body}`);
      // Count the ids without parsing them all: one '","' between neighbours.
      let count = 1;
      for (let at = body.indexOf('","'); at !== -1; at = body.indexOf('","', at + 3)) count++;
      if (count !== HTTP_BATCH)
        throw new Error(`GET /ids returned ${count} ids, not ${HTTP_BATCH}`);
      ids += count;
      requests++;
    }
  };
  await Promise.all(Array.from({ length: HTTP_CONCURRENCY }, worker));
  return { idsPerSecond: ids / ((performance.now() - start) / 1000), requests };
}

export default defineSuite({
  name: "ids",
  description: `Snowflake ids/s: ours vs ${PEER_NAME}, duplicates counted; fraction of the twitter layout's 4.096 M/s; HTTP /ids`,
  async run(context) {
    const rounds = context.quick ? 3 : 7;
    const idsPerRound = context.quick ? 1_000_000 : 4_000_000;
    const results: BenchResult[] = [];

    const peer = new Snowflake(layout.epochMs);
    peer.workerId = 1n;
    peer.processId = 1n;

    // Strict: every id carries the current millisecond (Twitter's semantics, our default).
    // With a lag allowance, milliseconds skipped while this process was descheduled on a
    // busy machine are filled afterwards (ids then carry timestamps up to LAG_MS old).
    const strict = new SnowflakeGenerator({ layout, datacenter: 1, machine: 1 });
    const lagging = new SnowflakeGenerator({ layout, datacenter: 1, machine: 2, maxLagMs: LAG_MS });
    const modes = [
      { mode: "one id per call", generator: strict, fill: oursSingle(strict) },
      { mode: `batches of ${BATCH_SIZE}`, generator: strict, fill: oursBatch(strict) },
      {
        mode: `batches of ${BATCH_SIZE}, maxLagMs ${LAG_MS}`,
        generator: lagging,
        fill: oursBatch(lagging),
      },
    ];

    for (const { mode, generator, fill: oursFill } of modes) {
      // Before timing, use up the lag credit an idle generator has (LAG_MS of ids it may
      // backfill at once), so the figure is a sustained rate, not a burst.
      const drainLagCredit = () => void generator.nextBatch((LAG_MS + 1) * BATCH_SIZE);
      const oursTally: Tally = { duplicates: 0, ids: 0 };
      const peerTally: Tally = { duplicates: 0, ids: 0 };
      const figures = await alternate({
        rounds,
        ours: () => timed(idsPerRound, oursTally, oursFill, drainLagCredit),
        peer: () => timed(idsPerRound, peerTally, peerSingle(peer)),
        onRound: (round, o, p) =>
          context.progress(
            `${mode}: round ${round + 1}/${rounds} ours ${Math.round(o)} ids/s, peer ${Math.round(p)} ids/s`,
          ),
      });
      results.push(
        result(
          `ids/s, ${mode} (twitter layout)`,
          "ids/s",
          figures.ours,
          { name: PEER_NAME, value: figures.peer },
          {
            oursDuplicates: oursTally.duplicates,
            peerDuplicates: peerTally.duplicates,
            idsPerSide: oursTally.ids,
            oursFractionOfLimit:
              Math.round((figures.ours / THEORETICAL_IDS_PER_SECOND) * 10_000) / 10_000,
          },
        ),
      );
      // Ids/s that are not duplicates: a duplicate is worth nothing to the caller.
      const unique = (figure: number, tally: Tally) => figure * (1 - tally.duplicates / tally.ids);
      results.push(
        result(
          `unique ids/s, ${mode} (duplicates discounted)`,
          "ids/s",
          unique(figures.ours, oursTally),
          { name: PEER_NAME, value: unique(figures.peer, peerTally) },
        ),
      );
      results.push(
        result(
          `ours as % of the 4.096 M/s limit, ${mode}`,
          "%",
          (figures.ours / THEORETICAL_IDS_PER_SECOND) * 100,
          null,
          {
            target: 95,
            duplicates: oursTally.duplicates,
          },
        ),
      );
    }

    context.progress("HTTP: starting the service on 127.0.0.1:0");
    const service = await startIdService({
      ...DEFAULT_CONFIG,
      host: "127.0.0.1",
      port: 0,
      machine: 2,
      logLevel: "silent",
    });
    try {
      await httpIdsPerSecond(service.url, 300); // warm-up
      const http = await httpIdsPerSecond(service.url, context.quick ? 2_000 : 6_000);
      context.progress(
        `HTTP: ${Math.round(http.idsPerSecond)} ids/s over ${http.requests} requests`,
      );
      results.push(
        result(
          `HTTP GET /ids?count=${HTTP_BATCH}, ${HTTP_CONCURRENCY} in flight, client in-process`,
          "ids/s",
          http.idsPerSecond,
          null,
          {
            requests: http.requests,
            requestsPerSecond: Math.round((http.idsPerSecond / HTTP_BATCH) * 10) / 10,
          },
        ),
      );
    } finally {
      await service.close();
    }
    return results;
  },
});
