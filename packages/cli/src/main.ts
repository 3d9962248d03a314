#!/usr/bin/env node
/**
 * The `scaleout` binary. It is thin on purpose: each subcommand lives in
 * `commands/<part>.ts`, parses its flags with commander and calls into the
 * package that does the work.
 */
import { Command, CommanderError } from "commander";
import { estimateCommand } from "./commands/estimate.js";
import { idsCommand } from "./commands/ids.js";
import { kvCommand } from "./commands/kv.js";
import { ratelimitCommand } from "./commands/ratelimit.js";
import { ringCommand } from "./commands/ring.js";
import { CliError } from "./errors.js";
import { VERSION } from "./version.js";

export function buildProgram(): Command {
  const program = new Command("scaleout")
    .description(
      "Scalable-system building blocks: consistent hashing, rate limiting, a Dynamo-style " +
        "key-value store, Snowflake IDs and a back-of-the-envelope estimator.",
    )
    .version(VERSION, "-V, --version", "print the scaleout version")
    .showHelpAfterError("(run with --help for usage)")
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false });
  // Subcommands, one module per part (keep in package-map order).
  program.addCommand(estimateCommand());
  program.addCommand(ratelimitCommand());
  program.addCommand(ringCommand());
  program.addCommand(kvCommand());
  program.addCommand(idsCommand());
  return program;
}

async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version "errors" exit 0; commander has already printed the message.
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof CliError) {
      process.stderr.write(`scaleout: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`scaleout: ${message}\n`);
    process.exitCode = 1;
  }
}

await main(process.argv);
