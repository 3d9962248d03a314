/**
 * Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET and the
 * CLIENT family. They touch only the calling connection's state.
 */
import {
  array,
  bulk,
  bulkOrNull,
  error,
  integer,
  map,
  NULL,
  OK,
  PONG,
  type Reply,
  simple,
  verbatim,
} from "../resp/reply.js";
import { isWord, lowerName, parseInt64, text } from "./arguments.js";
import {
  AUTH_WITHOUT_PASSWORD,
  DB_INDEX_OUT_OF_RANGE,
  NOPROTO,
  NOT_INTEGER,
  SYNTAX_ERROR,
  unknownSubcommand,
  WRONGPASS,
  wrongArity,
} from "./replies.js";
import type { ClientState, CommandContext } from "./types.js";

/** The Redis version we speak (commands, replies and errors follow Redis 7.0). */
export const REDIS_COMPATIBLE_VERSION = "7.0.15";

export function pingCommand(context: CommandContext, args: Buffer[]): Reply {
  if (args.length > 2) return wrongArity(context.spec.name);
  return args.length === 2 ? bulk(args[1]!) : PONG;
}

export function echoCommand(_context: CommandContext, args: Buffer[]): Reply {
  return bulk(args[1]!);
}

export function selectCommand(_context: CommandContext, args: Buffer[]): Reply {
  const index = parseInt64(args[1]!);
  if (index === undefined || index > 2147483647n || index < -2147483648n) return NOT_INTEGER;
  return index === 0n ? OK : DB_INDEX_OUT_OF_RANGE;
}

export function quitCommand(context: CommandContext): Reply {
  context.client.closeAfterReply = true;
  return OK;
}

export function resetCommand(context: CommandContext): Reply {
  const client = context.client;
  client.protocol = 2;
  client.name = undefined;
  client.authenticated = context.services.requirePass === undefined;
  return simple("RESET");
}

/** True when the password matches; "default" is the only user. */
function checkPassword(context: CommandContext, user: string, password: Buffer): boolean {
  const expected = context.services.requirePass;
  if (user !== "default") return false;
  if (expected === undefined) return true;
  return text(password) === expected;
}

export function authCommand(context: CommandContext, args: Buffer[]): Reply {
  if (args.length > 3) return SYNTAX_ERROR;
  let user = "default";
  let password = args[1]!;
  if (args.length === 2) {
    if (context.services.requirePass === undefined) return AUTH_WITHOUT_PASSWORD;
  } else {
    user = text(args[1]!);
    password = args[2]!;
  }
  if (!checkPassword(context, user, password)) return WRONGPASS;
  context.client.authenticated = true;
  return OK;
}

/** HELLO [protover [AUTH user pass] [SETNAME name]] */
export function helloCommand(context: CommandContext, args: Buffer[]): Reply {
  let version: 2 | 3 | undefined;
  let next = 1;
  if (args.length >= 2) {
    const parsed = parseInt64(args[next++]!);
    if (parsed === undefined)
      return error("ERR Protocol version is not an integer or out of range");
    if (parsed < 2n || parsed > 3n) return NOPROTO;
    version = parsed === 3n ? 3 : 2;
  }
  let user: string | undefined;
  let password: Buffer | undefined;
  let name: Buffer | undefined;
  for (let j = next; j < args.length; j++) {
    const more = args.length - 1 - j;
    const opt = args[j]!;
    if (isWord(opt, "AUTH") && more >= 2) {
      user = text(args[j + 1]!);
      password = args[j + 2]!;
      j += 2;
    } else if (isWord(opt, "SETNAME") && more >= 1) {
      name = args[j + 1]!;
      j++;
    } else {
      return error(`ERR Syntax error in HELLO option '${text(opt)}'`);
    }
  }
  const client = context.client;
  if (user !== undefined && password !== undefined) {
    if (!checkPassword(context, user, password)) return WRONGPASS;
    client.authenticated = true;
  }
  if (!client.authenticated) {
    return error(
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
    );
  }
  if (name !== undefined) {
    const problem = setClientName(client, name);
    if (problem !== undefined) return problem;
  }
  if (version !== undefined) client.protocol = version;
  return map([
    [bulk("server"), bulk("redis")],
    [bulk("version"), bulk(REDIS_COMPATIBLE_VERSION)],
    [bulk("proto"), integer(client.protocol)],
    [bulk("id"), integer(client.id)],
    [bulk("mode"), bulk("standalone")],
    [bulk("role"), bulk("master")],
    [bulk("modules"), array([])],
  ]);
}

function setClientName(client: ClientState, name: Buffer): Reply | undefined {
  if (name.length === 0) {
    client.name = undefined;
    return undefined;
  }
  for (const byte of name) {
    if (byte < 0x21 || byte > 0x7e) {
      return error("ERR Client names cannot contain spaces, newlines or special characters.");
    }
  }
  client.name = text(name);
  return undefined;
}

/** One CLIENT LIST / CLIENT INFO line, with Redis's field names. */
export function describeClient(client: ClientState, nowMs: number): string {
  const fields = [
    `id=${client.id}`,
    `addr=${client.remoteAddress}`,
    `laddr=${client.localAddress}`,
    `name=${client.name ?? ""}`,
    `age=${Math.floor((nowMs - client.createdAtMs) / 1000)}`,
    `idle=${Math.floor((nowMs - client.lastInteractionMs) / 1000)}`,
    "flags=N",
    "db=0",
    "sub=0",
    "psub=0",
    "ssub=0",
    "multi=-1",
    `qbuf=${client.queryBufferBytes()}`,
    `omem=${client.outputBufferBytes()}`,
    `cmd=${client.lastCommand}`,
    "user=default",
    `lib-name=${client.libraryName ?? ""}`,
    `lib-ver=${client.libraryVersion ?? ""}`,
    `resp=${client.protocol}`,
  ];
  return `${fields.join(" ")}\n`;
}

const CLIENT_HELP = [
  "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "GETNAME",
  "    Return the name of the current connection.",
  "ID",
  "    Return the ID of the current connection.",
  "INFO",
  "    Return information about the current client connection.",
  "KILL <ip:port>",
  "    Kill connection made from <ip:port>.",
  "KILL <option> <value> [<option> <value> [...]]",
  "    Kill connections. Options are: ID <client-id>, ADDR <ip:port>, LADDR <ip:port>.",
  "LIST [TYPE NORMAL]",
  "    Return information about client connections.",
  "SETNAME <name>",
  "    Assign the name <name> to the current connection.",
  "SETINFO <LIB-NAME|LIB-VER> <value>",
  "    Set client library name or version.",
  "NO-EVICT (ON|OFF)",
  "    Accepted for compatibility; clients are never evicted.",
  "HELP",
  "    Print this help.",
];

export function clientGetnameCommand(context: CommandContext): Reply {
  return context.client.name === undefined ? NULL : bulk(context.client.name);
}

export function clientSetnameCommand(context: CommandContext, args: Buffer[]): Reply {
  return setClientName(context.client, args[2]!) ?? OK;
}

export function clientIdCommand(context: CommandContext): Reply {
  return integer(context.client.id);
}

export function clientInfoCommand(context: CommandContext): Reply {
  return verbatim(describeClient(context.client, context.nowMs));
}

export function clientListCommand(context: CommandContext, args: Buffer[]): Reply {
  let clients = context.services.listClients();
  for (let j = 2; j < args.length; j++) {
    const opt = args[j]!;
    if (isWord(opt, "TYPE") && j + 1 < args.length) {
      const type = lowerName(args[++j]!);
      if (!["normal", "master", "replica", "slave", "pubsub"].includes(type)) {
        return error(`ERR Unknown client type '${type}'`);
      }
      if (type !== "normal") clients = [];
    } else if (isWord(opt, "ID") && j + 1 < args.length) {
      const ids = new Set<number>();
      for (j++; j < args.length; j++) {
        const id = parseInt64(args[j]!);
        if (id === undefined || id <= 0n) return error("ERR Invalid client ID");
        ids.add(Number(id));
      }
      clients = clients.filter((client) => ids.has(client.id));
    } else {
      return SYNTAX_ERROR;
    }
  }
  return verbatim(clients.map((client) => describeClient(client, context.nowMs)).join(""));
}

export function clientKillCommand(context: CommandContext, args: Buffer[]): Reply {
  const clients = context.services.listClients();
  if (args.length === 3) {
    const address = text(args[2]!);
    const target = clients.find((client) => client.remoteAddress === address);
    if (target === undefined) return error("ERR No such client");
    if (target === context.client) context.client.closeAfterReply = true;
    else target.kill();
    return OK;
  }
  if (args.length % 2 !== 0) return SYNTAX_ERROR;
  let matches = [...clients];
  for (let j = 2; j < args.length; j += 2) {
    const opt = args[j]!;
    const value = text(args[j + 1]!);
    if (isWord(opt, "ID")) {
      const id = parseInt64(args[j + 1]!);
      if (id === undefined || id <= 0n) return error("ERR client-id should be greater than 0");
      matches = matches.filter((client) => client.id === Number(id));
    } else if (isWord(opt, "ADDR")) {
      matches = matches.filter((client) => client.remoteAddress === value);
    } else if (isWord(opt, "LADDR")) {
      matches = matches.filter((client) => client.localAddress === value);
    } else if (isWord(opt, "SKIPME")) {
      if (isWord(args[j + 1]!, "YES"))
        matches = matches.filter((client) => client !== context.client);
    } else {
      return SYNTAX_ERROR;
    }
  }
  for (const client of matches) {
    if (client === context.client) client.closeAfterReply = true;
    else client.kill();
  }
  return integer(matches.length);
}

export function clientSetinfoCommand(context: CommandContext, args: Buffer[]): Reply {
  const value = text(args[3]!);
  if (isWord(args[2]!, "LIB-NAME")) context.client.libraryName = value;
  else if (isWord(args[2]!, "LIB-VER")) context.client.libraryVersion = value;
  else return error(`ERR Unrecognized option '${text(args[2]!)}'`);
  return OK;
}

export function clientNoEvictCommand(_context: CommandContext, args: Buffer[]): Reply {
  if (isWord(args[2]!, "ON") || isWord(args[2]!, "OFF")) return OK;
  return SYNTAX_ERROR;
}

export function clientHelpCommand(): Reply {
  return array(CLIENT_HELP.map((line) => simple(line)));
}

export { bulkOrNull, unknownSubcommand };
