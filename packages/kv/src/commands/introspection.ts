/**
 * COMMAND, COMMAND COUNT/INFO/DOCS/LIST/GETKEYS: generated from the command
 * table, in Redis 7's reply shapes, so redis-cli's hints and client libraries
 * that introspect commands work.
 */
import { array, bulk, error, integer, map, NULL, type Reply, simple } from "../resp/reply.js";
import { lowerName } from "./arguments.js";
import { wrongArity } from "./replies.js";
import { COMMANDS, keyPositions, SUBCOMMANDS } from "./table.js";
import type { ArgumentDoc, CommandContext, CommandSpec } from "./types.js";

function aclCategories(spec: CommandSpec): Reply[] {
  const categories: string[] = [];
  if (spec.flags.includes("write")) categories.push("@write");
  if (spec.flags.includes("readonly")) categories.push("@read");
  categories.push(
    spec.group === "string"
      ? "@string"
      : spec.group === "generic"
        ? "@keyspace"
        : spec.group === "connection"
          ? "@connection"
          : "@admin",
  );
  categories.push(spec.flags.includes("fast") ? "@fast" : "@slow");
  return categories.map((category) => simple(category));
}

export function commandInfoReply(spec: CommandSpec): Reply {
  return array([
    bulk(spec.name),
    integer(spec.arity),
    { kind: "set", items: spec.flags.map((flag) => simple(flag)) },
    integer(spec.firstKey),
    integer(spec.lastKey),
    integer(spec.step),
    { kind: "set", items: aclCategories(spec) },
    array([]),
    array([]),
    array((spec.subcommands ?? []).map(commandInfoReply)),
  ]);
}

function argumentDoc(argument: ArgumentDoc): Reply {
  const entries: [Reply, Reply][] = [
    [bulk("name"), bulk(argument.name)],
    [bulk("type"), bulk(argument.type)],
  ];
  if (argument.token !== undefined) entries.push([bulk("token"), bulk(argument.token)]);
  const flags: Reply[] = [];
  if (argument.optional === true) flags.push(simple("optional"));
  if (argument.multiple === true) flags.push(simple("multiple"));
  if (flags.length > 0) entries.push([bulk("flags"), array(flags)]);
  if (argument.arguments !== undefined)
    entries.push([bulk("arguments"), array(argument.arguments.map(argumentDoc))]);
  return map(entries);
}

function commandDoc(spec: CommandSpec): Reply {
  const entries: [Reply, Reply][] = [
    [bulk("summary"), bulk(spec.summary)],
    [bulk("since"), bulk(spec.since)],
    [bulk("group"), bulk(spec.group)],
    [bulk("complexity"), bulk(spec.complexity)],
  ];
  if (spec.arguments !== undefined)
    entries.push([bulk("arguments"), array(spec.arguments.map(argumentDoc))]);
  if (spec.subcommands !== undefined) {
    entries.push([
      bulk("subcommands"),
      map(spec.subcommands.map((sub) => [bulk(sub.name), commandDoc(sub)] as const)),
    ]);
  }
  return map(entries);
}

function lookup(name: string): CommandSpec | undefined {
  return COMMANDS.get(name) ?? SUBCOMMANDS.get(name);
}

export function commandCommand(context: CommandContext, args: Buffer[]): Reply {
  void context;
  void args;
  return array([...COMMANDS.values()].map(commandInfoReply));
}

export function commandCountCommand(): Reply {
  return integer(COMMANDS.size);
}

export function commandInfoCommand(_context: CommandContext, args: Buffer[]): Reply {
  if (args.length === 2) return array([...COMMANDS.values()].map(commandInfoReply));
  return array(
    args.slice(2).map((arg) => {
      const spec = lookup(lowerName(arg));
      return spec === undefined ? NULL : commandInfoReply(spec);
    }),
  );
}

export function commandDocsCommand(_context: CommandContext, args: Buffer[]): Reply {
  const specs =
    args.length === 2
      ? [...COMMANDS.values()]
      : args.slice(2).flatMap((arg) => {
          const spec = lookup(lowerName(arg));
          return spec === undefined ? [] : [spec];
        });
  return map(specs.map((spec) => [bulk(spec.name), commandDoc(spec)] as const));
}

export function commandListCommand(_context: CommandContext, args: Buffer[]): Reply {
  if (args.length > 2) return error("ERR syntax error");
  return array([...COMMANDS.keys()].map((name) => bulk(name)));
}

export function commandGetkeysCommand(_context: CommandContext, args: Buffer[]): Reply {
  const target = args.slice(2);
  const spec = COMMANDS.get(lowerName(target[0]!));
  if (spec === undefined) return error("ERR Invalid command specified");
  if ((spec.arity > 0 && target.length !== spec.arity) || target.length < -spec.arity) {
    return error("ERR Invalid number of arguments specified for command");
  }
  const positions = keyPositions(spec, target.length);
  if (positions.length === 0) return error("ERR The command has no key arguments");
  return array(positions.map((position) => bulk(target[position]!)));
}

export function commandHelpCommand(): Reply {
  return array(
    [
      "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "(no subcommand)",
      "    Return details about all commands.",
      "COUNT",
      "    Return the total number of commands in this server.",
      "LIST",
      "    Return a list of all commands in this server.",
      "INFO [<command-name> ...]",
      "    Return details about multiple commands.",
      "DOCS [<command-name> ...]",
      "    Return documentation details about multiple commands.",
      "GETKEYS <full-command>",
      "    Return the keys from a full command.",
      "HELP",
      "    Print this help.",
    ].map((line) => simple(line)),
  );
}

export { wrongArity };
