/**
 * `scaleout ring simulate`: the consistent-hashing simulator of
 * @scaleout/hashring. This module only parses flags and prints; the
 * simulation and the SVG live in the package.
 */
import { writeFileSync } from "node:fs";
import {
  formatSimulation,
  HashRing,
  HashRingError,
  MAX_SIMULATION_KEYS,
  MAX_SIMULATION_NODES,
  MAX_VNODES_PER_NODE,
  nodeIdsFor,
  renderRingSvg,
  SIMULATION_STRATEGIES,
  type SimulationStrategy,
  simulate,
} from "@scaleout/hashring";
import { Command } from "commander";
import { CliError } from "../errors.js";
import { choiceOption, integerListOption, integerOption, numberOption } from "../options.js";

interface SimulateFlags {
  nodes: number;
  vnodes: number[];
  keys: number;
  strategy: SimulationStrategy;
  epsilon: number;
  json?: boolean;
  svg?: string;
}

export function ringCommand(): Command {
  const ring = new Command("ring").description(
    "Consistent hashing (chapter 5): virtual-node rings, bounded loads, jump and rendezvous hashing.",
  );
  ring
    .command("simulate")
    .description(
      "Place keys on nodes and print, per setting, the spread of keys per node (standard deviation " +
        "as % of the mean, max/mean) and the fraction of keys that move when one node joins and " +
        "one leaves, against the ideal 1/(n+1) and 1/n. Progress goes to stderr.",
    )
    .option("--nodes <n>", "number of nodes", integerOption(2, MAX_SIMULATION_NODES), 10)
    .option(
      "--vnodes <list>",
      "virtual nodes per node, comma-separated, one row each (ring and bounded only)",
      integerListOption(1, MAX_VNODES_PER_NODE),
      [10, 50, 100, 200, 500],
    )
    .option("--keys <n>", "number of keys", integerOption(1, MAX_SIMULATION_KEYS), 1_000_000)
    .option(
      "--strategy <name>",
      `placement: ${SIMULATION_STRATEGIES.join(" | ")}`,
      choiceOption(SIMULATION_STRATEGIES),
      "ring",
    )
    .option(
      "--epsilon <e>",
      "bounded only: capacity is ceil((1+e) * average keys per node); e > 0",
      numberOption(0),
      0.25,
    )
    .option("--json", "print the figures as one JSON object on stdout")
    .option("--svg <file>", "write an SVG picture of the ring at the first --vnodes value")
    .action((flags: SimulateFlags) => {
      if (flags.strategy === "bounded" && !(flags.epsilon > 0)) {
        throw new CliError("--epsilon must be greater than 0");
      }
      if (
        flags.svg !== undefined &&
        (flags.strategy === "jump" || flags.strategy === "rendezvous")
      ) {
        throw new CliError(`--svg draws a ring; strategy ${flags.strategy} has none`);
      }
      const started = performance.now();
      const progress = (message: string) => {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        process.stderr.write(`ring simulate [${seconds} s] ${message}\n`);
      };
      try {
        if (flags.svg !== undefined) {
          const pictured = new HashRing(nodeIdsFor(flags.nodes), { vnodes: flags.vnodes[0] });
          writeFileSync(flags.svg, renderRingSvg(pictured));
          progress(`wrote ${flags.svg}`);
        }
        const report = simulate({
          nodes: flags.nodes,
          vnodes: flags.vnodes,
          keys: flags.keys,
          strategy: flags.strategy,
          epsilon: flags.epsilon,
          onProgress: progress,
        });
        process.stdout.write(
          flags.json === true ? `${JSON.stringify(report)}\n` : `${formatSimulation(report)}\n`,
        );
      } catch (error) {
        if (error instanceof HashRingError) throw new CliError(error.message);
        throw error;
      }
    });
  return ring;
}
