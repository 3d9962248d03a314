/**
 * `scaleout estimate`: back-of-the-envelope estimates (chapter 2). Parses flags
 * and reads the file; the arithmetic, validation and rendering live in
 * @scaleout/estimate.
 */
import { readFileSync, statSync } from "node:fs";
import {
  ASSUMPTION_FIELDS,
  ASSUMPTIONS_FILE_SIZE_BYTES_MAX,
  EstimateError,
  fieldToFlag,
  PRESETS,
  type RawAssumptions,
  referenceTable,
  renderEstimateJson,
  renderEstimateText,
  renderTableJson,
  renderTableText,
  runEstimateRequest,
  TABLE_NAMES,
} from "@scaleout/estimate";
import { Command } from "commander";
import { CliError } from "../errors.js";

/** Fields set through their own flag; objects use the repeatable --object. */
const SCALAR_FIELDS = ASSUMPTION_FIELDS.filter(
  (field) => field.kind !== "objects" && field.kind !== "notes",
);

interface EstimateFlags {
  preset?: string;
  table?: string;
  json?: boolean;
  binary?: boolean;
  object: string[];
  [field: string]: unknown;
}

export function estimateCommand(): Command {
  const command = new Command("estimate")
    .description(
      "Back-of-the-envelope estimate (chapter 2): DAU, QPS, storage, bandwidth, cache and servers " +
        "from a YAML file of assumptions, a preset or flags; or a reference table.",
    )
    .argument("[file]", "YAML file of assumptions (see packages/estimate/README.md)")
    .option("--preset <name>", `start from a preset: ${[...PRESETS.keys()].join(", ")}`)
    .option("--table <name>", `print a reference table: ${TABLE_NAMES.join(", ")}`)
    .option("--json", "print JSON for machines instead of text")
    .option("--binary", "show sizes in binary units (KiB, MiB, GiB) instead of KB, MB, GB")
    .option(
      "--object <kind=size[@fraction]>",
      'an object kind stored per write, e.g. --object "media=1 MB @ 10%" (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [],
    );
  for (const field of SCALAR_FIELDS) {
    command.option(
      `--${fieldToFlag(field.name)} <value>`,
      `${field.description} (e.g. ${field.example})`,
    );
  }
  return command.action((file: string | undefined, flags: EstimateFlags) => {
    process.stdout.write(runEstimateCommand(file, flags));
  });
}

function runEstimateCommand(file: string | undefined, flags: EstimateFlags): string {
  try {
    if (flags.table !== undefined) {
      if (file !== undefined || flags.preset !== undefined) {
        throw new CliError("--table prints a reference table; it takes no file or --preset");
      }
      const table = referenceTable(flags.table);
      return flags.json === true ? renderTableJson(table) : renderTableText(table);
    }
    const overrides = overridesFromFlags(flags);
    if (file === undefined && flags.preset === undefined && Object.keys(overrides).length === 0) {
      throw new CliError(
        "give an assumptions file, --preset <name>, assumption flags or --table <name> (see scaleout estimate --help)",
      );
    }
    const { estimate } = runEstimateRequest({
      ...(file === undefined ? {} : { yaml: { text: readAssumptionsFile(file), source: file } }),
      ...(flags.preset === undefined ? {} : { preset: flags.preset }),
      overrides,
      sizeUnits: flags.binary === true ? "binary" : "decimal",
    });
    return flags.json === true ? renderEstimateJson(estimate) : renderEstimateText(estimate);
  } catch (error) {
    // Bad input is a usage error: one line, exit code 2.
    if (error instanceof EstimateError) throw new CliError(error.message, 2);
    throw error;
  }
}

function readAssumptionsFile(file: string): string {
  try {
    const sizeBytes = statSync(file).size;
    if (sizeBytes > ASSUMPTIONS_FILE_SIZE_BYTES_MAX) {
      throw new CliError(
        `${file}: ${sizeBytes} bytes is larger than ${ASSUMPTIONS_FILE_SIZE_BYTES_MAX}`,
      );
    }
    return readFileSync(file, "utf8");
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? "";
    throw new CliError(`${file}: cannot read the assumptions file (${code || String(error)})`);
  }
}

/** Flag values become raw assumptions, validated with the file's rules. */
function overridesFromFlags(flags: EstimateFlags): RawAssumptions {
  const overrides: Record<string, unknown> = {};
  for (const field of SCALAR_FIELDS) {
    const value = flags[camelCase(fieldToFlag(field.name))];
    if (value !== undefined) overrides[field.name] = value;
  }
  if (flags.object.length > 0) {
    const objects: Record<string, string> = {};
    for (const entry of flags.object) {
      const separator = entry.indexOf("=");
      if (separator <= 0) {
        throw new CliError(
          `--object: "${entry}" is not kind=size[@fraction], e.g. "media=1 MB @ 10%"`,
        );
      }
      objects[entry.slice(0, separator).trim()] = entry.slice(separator + 1);
    }
    overrides.objects = objects;
  }
  return overrides;
}

/** Commander's key for a flag: "monthly-active-users" → "monthlyActiveUsers". */
function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
