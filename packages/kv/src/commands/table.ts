/**
 * The command table: every supported command as data. Dispatch, arity
 * errors, key locking and COMMAND / COMMAND INFO / COMMAND DOCS all read it.
 * Arity, flags and key positions are Redis 7.0's.
 */
import {
  authCommand,
  clientGetnameCommand,
  clientHelpCommand,
  clientIdCommand,
  clientInfoCommand,
  clientKillCommand,
  clientListCommand,
  clientNoEvictCommand,
  clientSetinfoCommand,
  clientSetnameCommand,
  echoCommand,
  helloCommand,
  pingCommand,
  quitCommand,
  resetCommand,
  selectCommand,
} from "./connection.js";
import {
  commandCommand,
  commandCountCommand,
  commandDocsCommand,
  commandGetkeysCommand,
  commandHelpCommand,
  commandInfoCommand,
  commandListCommand,
} from "./introspection.js";
import {
  dbsizeCommand,
  delCommand,
  existsCommand,
  expireCommand,
  expiretimeCommand,
  flushCommand,
  keysCommand,
  persistCommand,
  randomkeyCommand,
  renameCommand,
  scanCommand,
  ttlCommand,
  typeCommand,
} from "./keys.js";
import {
  configGetCommand,
  configHelpCommand,
  configResetstatCommand,
  configSetCommand,
  infoCommand,
  shutdownCommand,
  timeCommand,
} from "./server.js";
import {
  appendCommand,
  getCommand,
  getdelCommand,
  getexCommand,
  getrangeCommand,
  getsetCommand,
  incrbyCommand,
  incrbyfloatCommand,
  incrCommand,
  mgetCommand,
  msetCommand,
  msetnxCommand,
  msetRanged,
  setCommand,
  setexCommand,
  setnxCommand,
  setrangeCommand,
  strlenCommand,
} from "./strings.js";
import type {
  ArgumentDoc,
  CommandFlag,
  CommandHandler,
  CommandSpec,
  RangedHandler,
} from "./types.js";

// Argument documentation helpers (COMMAND DOCS, redis-cli hints).
const key = (name = "key", multiple = false): ArgumentDoc => ({
  name,
  type: "key",
  ...(multiple ? { multiple } : {}),
});
const str = (name: string, multiple = false): ArgumentDoc => ({
  name,
  type: "string",
  ...(multiple ? { multiple } : {}),
});
const int = (name: string): ArgumentDoc => ({ name, type: "integer" });
const token = (word: string): ArgumentDoc => ({
  name: word.toLowerCase(),
  type: "pure-token",
  token: word,
});
const optional = (argument: ArgumentDoc): ArgumentDoc => ({ ...argument, optional: true });
const oneof = (name: string, choices: ArgumentDoc[], isOptional = true): ArgumentDoc => ({
  name,
  type: "oneof",
  optional: isOptional,
  arguments: choices,
});
const tokenArg = (word: string, type: ArgumentDoc["type"], name: string): ArgumentDoc => ({
  name,
  type,
  token: word,
});
const expireCondition = oneof("condition", [token("NX"), token("XX"), token("GT"), token("LT")]);

interface Declaration {
  arity: number;
  flags: CommandFlag[];
  keys?: [number, number, number];
  wholeKeyspace?: boolean;
  group: CommandSpec["group"];
  summary: string;
  since: string;
  complexity?: string;
  arguments?: ArgumentDoc[];
  handler?: CommandHandler;
  rangedHandler?: RangedHandler;
  subcommands?: Record<string, Declaration>;
}

const W: CommandFlag[] = ["write", "denyoom"];
const WF: CommandFlag[] = ["write", "denyoom", "fast"];
const RF: CommandFlag[] = ["readonly", "fast"];
const K1: [number, number, number] = [1, 1, 1];

const DECLARATIONS: Record<string, Declaration> = {
  // --- strings (strings.ts)
  get: {
    arity: 2,
    flags: RF,
    keys: K1,
    group: "string",
    summary: "Returns the string value of a key.",
    since: "1.0.0",
    arguments: [key()],
    handler: getCommand,
  },
  set: {
    arity: -3,
    flags: W,
    keys: K1,
    group: "string",
    since: "1.0.0",
    summary:
      "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
    arguments: [
      key(),
      str("value"),
      oneof("condition", [token("NX"), token("XX")]),
      optional(token("GET")),
      oneof("expiration", [
        tokenArg("EX", "integer", "seconds"),
        tokenArg("PX", "integer", "milliseconds"),
        tokenArg("EXAT", "unix-time", "unix-time-seconds"),
        tokenArg("PXAT", "unix-time", "unix-time-milliseconds"),
        token("KEEPTTL"),
      ]),
    ],
    handler: setCommand,
  },
  setnx: {
    arity: 3,
    flags: WF,
    keys: K1,
    group: "string",
    summary: "Set the string value of a key only when the key doesn't exist.",
    since: "1.0.0",
    arguments: [key(), str("value")],
    handler: setnxCommand,
  },
  setex: {
    arity: 4,
    flags: W,
    keys: K1,
    group: "string",
    summary: "Sets the string value and expiration time of a key.",
    since: "2.0.0",
    arguments: [key(), int("seconds"), str("value")],
    handler: setexCommand("seconds"),
  },
  psetex: {
    arity: 4,
    flags: W,
    keys: K1,
    group: "string",
    summary: "Sets both string value and expiration time in milliseconds of a key.",
    since: "2.6.0",
    arguments: [key(), int("milliseconds"), str("value")],
    handler: setexCommand("ms"),
  },
  getset: {
    arity: 3,
    flags: WF,
    keys: K1,
    group: "string",
    summary: "Returns the previous string value of a key after setting it to a new value.",
    since: "1.0.0",
    arguments: [key(), str("value")],
    handler: getsetCommand,
  },
  getdel: {
    arity: 2,
    flags: ["write", "fast"],
    keys: K1,
    group: "string",
    summary: "Returns the string value of a key after deleting the key.",
    since: "6.2.0",
    arguments: [key()],
    handler: getdelCommand,
  },
  getex: {
    arity: -2,
    flags: ["write", "fast"],
    keys: K1,
    group: "string",
    since: "6.2.0",
    summary: "Returns the string value of a key after setting its expiration time.",
    arguments: [
      key(),
      oneof("expiration", [
        tokenArg("EX", "integer", "seconds"),
        tokenArg("PX", "integer", "milliseconds"),
        tokenArg("EXAT", "unix-time", "unix-time-seconds"),
        tokenArg("PXAT", "unix-time", "unix-time-milliseconds"),
        token("PERSIST"),
      ]),
    ],
    handler: getexCommand,
  },
  mget: {
    arity: -2,
    flags: RF,
    keys: [1, -1, 1],
    group: "string",
    summary: "Atomically returns the string values of one or more keys.",
    since: "1.0.0",
    arguments: [key("key", true)],
    handler: mgetCommand,
  },
  mset: {
    arity: -3,
    flags: W,
    keys: [1, -1, 2],
    group: "string",
    summary: "Atomically creates or modifies the string values of one or more keys.",
    since: "1.0.1",
    arguments: [{ name: "data", type: "block", multiple: true, arguments: [key(), str("value")] }],
    handler: msetCommand,
    rangedHandler: msetRanged,
  },
  msetnx: {
    arity: -3,
    flags: W,
    keys: [1, -1, 2],
    group: "string",
    summary:
      "Atomically modifies the string values of one or more keys only when all keys don't exist.",
    since: "1.0.1",
    arguments: [{ name: "data", type: "block", multiple: true, arguments: [key(), str("value")] }],
    handler: msetnxCommand,
  },
  append: {
    arity: 3,
    flags: WF,
    keys: K1,
    group: "string",
    summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.",
    since: "2.0.0",
    arguments: [key(), str("value")],
    handler: appendCommand,
  },
  strlen: {
    arity: 2,
    flags: RF,
    keys: K1,
    group: "string",
    summary: "Returns the length of a string value.",
    since: "2.2.0",
    arguments: [key()],
    handler: strlenCommand,
  },
  getrange: {
    arity: 4,
    flags: ["readonly"],
    keys: K1,
    group: "string",
    summary: "Returns a substring of the string stored at a key.",
    since: "2.4.0",
    arguments: [key(), int("start"), int("end")],
    handler: getrangeCommand,
  },
  setrange: {
    arity: 4,
    flags: W,
    keys: K1,
    group: "string",
    summary:
      "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
    since: "2.2.0",
    arguments: [key(), int("offset"), str("value")],
    handler: setrangeCommand,
  },
  incr: {
    arity: 2,
    flags: WF,
    keys: K1,
    group: "string",
    summary:
      "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
    since: "1.0.0",
    arguments: [key()],
    handler: incrCommand(1n),
  },
  incrby: {
    arity: 3,
    flags: WF,
    keys: K1,
    group: "string",
    summary:
      "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
    since: "1.0.0",
    arguments: [key(), int("increment")],
    handler: incrbyCommand(1n),
  },
  decr: {
    arity: 2,
    flags: WF,
    keys: K1,
    group: "string",
    summary:
      "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
    since: "1.0.0",
    arguments: [key()],
    handler: incrCommand(-1n),
  },
  decrby: {
    arity: 3,
    flags: WF,
    keys: K1,
    group: "string",
    summary:
      "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
    since: "1.0.0",
    arguments: [key(), int("decrement")],
    handler: incrbyCommand(-1n),
  },
  incrbyfloat: {
    arity: 3,
    flags: WF,
    keys: K1,
    group: "string",
    summary:
      "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
    since: "2.6.0",
    arguments: [key(), { name: "increment", type: "double" }],
    handler: incrbyfloatCommand,
  },
  // --- keys (keys.ts)
  del: {
    arity: -2,
    flags: ["write"],
    keys: [1, -1, 1],
    group: "generic",
    summary: "Deletes one or more keys.",
    since: "1.0.0",
    arguments: [key("key", true)],
    handler: delCommand,
  },
  unlink: {
    arity: -2,
    flags: ["write", "fast"],
    keys: [1, -1, 1],
    group: "generic",
    summary: "Asynchronously deletes one or more keys.",
    since: "4.0.0",
    arguments: [key("key", true)],
    handler: delCommand,
  },
  exists: {
    arity: -2,
    flags: RF,
    keys: [1, -1, 1],
    group: "generic",
    summary: "Determines whether one or more keys exist.",
    since: "1.0.0",
    arguments: [key("key", true)],
    handler: existsCommand,
  },
  type: {
    arity: 2,
    flags: RF,
    keys: K1,
    group: "generic",
    summary: "Determines the type of value stored at a key.",
    since: "1.0.0",
    arguments: [key()],
    handler: typeCommand,
  },
  expire: {
    arity: -3,
    flags: ["write", "fast"],
    keys: K1,
    group: "generic",
    summary: "Sets the expiration time of a key in seconds.",
    since: "1.0.0",
    arguments: [key(), int("seconds"), expireCondition],
    handler: expireCommand("seconds", false),
  },
  pexpire: {
    arity: -3,
    flags: ["write", "fast"],
    keys: K1,
    group: "generic",
    summary: "Sets the expiration time of a key in milliseconds.",
    since: "2.6.0",
    arguments: [key(), int("milliseconds"), expireCondition],
    handler: expireCommand("ms", false),
  },
  expireat: {
    arity: -3,
    flags: ["write", "fast"],
    keys: K1,
    group: "generic",
    summary: "Sets the expiration time of a key to a Unix timestamp.",
    since: "1.2.0",
    arguments: [key(), { name: "unix-time-seconds", type: "unix-time" }, expireCondition],
    handler: expireCommand("seconds", true),
  },
  pexpireat: {
    arity: -3,
    flags: ["write", "fast"],
    keys: K1,
    group: "generic",
    summary: "Sets the expiration time of a key to a Unix milliseconds timestamp.",
    since: "2.6.0",
    arguments: [key(), { name: "unix-time-milliseconds", type: "unix-time" }, expireCondition],
    handler: expireCommand("ms", true),
  },
  expiretime: {
    arity: 2,
    flags: RF,
    keys: K1,
    group: "generic",
    summary: "Returns the expiration time of a key as a Unix timestamp.",
    since: "7.0.0",
    arguments: [key()],
    handler: expiretimeCommand("seconds"),
  },
  pexpiretime: {
    arity: 2,
    flags: RF,
    keys: K1,
    group: "generic",
    summary: "Returns the expiration time of a key as a Unix milliseconds timestamp.",
    since: "7.0.0",
    arguments: [key()],
    handler: expiretimeCommand("ms"),
  },
  ttl: {
    arity: 2,
    flags: RF,
    keys: K1,
    group: "generic",
    summary: "Returns the expiration time in seconds of a key.",
    since: "1.0.0",
    arguments: [key()],
    handler: ttlCommand("seconds"),
  },
  pttl: {
    arity: 2,
    flags: RF,
    keys: K1,
    group: "generic",
    summary: "Returns the expiration time in milliseconds of a key.",
    since: "2.6.0",
    arguments: [key()],
    handler: ttlCommand("ms"),
  },
  persist: {
    arity: 2,
    flags: ["write", "fast"],
    keys: K1,
    group: "generic",
    summary: "Removes the expiration time of a key.",
    since: "2.2.0",
    arguments: [key()],
    handler: persistCommand,
  },
  scan: {
    arity: -2,
    flags: ["readonly"],
    wholeKeyspace: true,
    group: "generic",
    summary: "Iterates over the key names in the database.",
    since: "2.8.0",
    complexity: "O(1) for every call. O(N) for a complete iteration.",
    arguments: [
      int("cursor"),
      optional(tokenArg("MATCH", "pattern", "pattern")),
      optional(tokenArg("COUNT", "integer", "count")),
      optional(tokenArg("TYPE", "string", "type")),
    ],
    handler: scanCommand,
  },
  keys: {
    arity: 2,
    flags: ["readonly"],
    wholeKeyspace: true,
    group: "generic",
    summary: "Returns all key names that match a pattern.",
    since: "1.0.0",
    complexity: "O(N)",
    arguments: [{ name: "pattern", type: "pattern" }],
    handler: keysCommand,
  },
  dbsize: {
    arity: 1,
    flags: RF,
    wholeKeyspace: true,
    group: "server",
    summary: "Returns the number of keys in the database.",
    since: "1.0.0",
    complexity: "O(1) on memory, O(N) on lsm",
    handler: dbsizeCommand,
  },
  randomkey: {
    arity: 1,
    flags: ["readonly"],
    wholeKeyspace: true,
    group: "generic",
    summary: "Returns a random key name from the database.",
    since: "1.0.0",
    handler: randomkeyCommand,
  },
  rename: {
    arity: 3,
    flags: ["write"],
    keys: [1, 2, 1],
    group: "generic",
    summary: "Renames a key and overwrites the destination.",
    since: "1.0.0",
    arguments: [key(), key("newkey")],
    handler: renameCommand(false),
  },
  renamenx: {
    arity: 3,
    flags: ["write", "fast"],
    keys: [1, 2, 1],
    group: "generic",
    summary: "Renames a key only when the target key name doesn't exist.",
    since: "1.0.0",
    arguments: [key(), key("newkey")],
    handler: renameCommand(true),
  },
  flushdb: {
    arity: -1,
    flags: ["write"],
    wholeKeyspace: true,
    group: "server",
    summary: "Remove all keys from the current database.",
    since: "1.0.0",
    arguments: [oneof("flush-type", [token("ASYNC"), token("SYNC")])],
    handler: flushCommand,
  },
  flushall: {
    arity: -1,
    flags: ["write"],
    wholeKeyspace: true,
    group: "server",
    summary: "Removes all keys from all databases.",
    since: "1.0.0",
    arguments: [oneof("flush-type", [token("ASYNC"), token("SYNC")])],
    handler: flushCommand,
  },
  // --- connection (connection.ts)
  ping: {
    arity: -1,
    flags: ["fast"],
    group: "connection",
    summary: "Returns the server's liveliness response.",
    since: "1.0.0",
    arguments: [optional(str("message"))],
    handler: pingCommand,
  },
  echo: {
    arity: 2,
    flags: ["fast"],
    group: "connection",
    summary: "Returns the given string.",
    since: "1.0.0",
    arguments: [str("message")],
    handler: echoCommand,
  },
  hello: {
    arity: -1,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    group: "connection",
    summary: "Handshakes with the Redis server.",
    since: "6.0.0",
    arguments: [
      optional({
        name: "arguments",
        type: "block",
        arguments: [
          int("protover"),
          optional({
            name: "auth",
            type: "block",
            token: "AUTH",
            arguments: [str("username"), str("password")],
          }),
          optional(tokenArg("SETNAME", "string", "clientname")),
        ],
      }),
    ],
    handler: helloCommand,
  },
  auth: {
    arity: -2,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    group: "connection",
    summary: "Authenticates the connection.",
    since: "1.0.0",
    arguments: [optional(str("username")), str("password")],
    handler: authCommand,
  },
  select: {
    arity: 2,
    flags: ["loading", "stale", "fast"],
    group: "connection",
    summary: "Changes the selected database (only database 0 exists).",
    since: "1.0.0",
    arguments: [int("index")],
    handler: selectCommand,
  },
  quit: {
    arity: -1,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    group: "connection",
    summary: "Closes the connection.",
    since: "1.0.0",
    handler: quitCommand,
  },
  reset: {
    arity: 1,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    group: "connection",
    summary: "Resets the connection.",
    since: "6.2.0",
    handler: resetCommand,
  },
  client: {
    arity: -2,
    flags: [],
    group: "connection",
    summary: "A container for client connection commands.",
    since: "2.4.0",
    subcommands: {
      getname: {
        arity: 2,
        flags: ["noscript", "loading", "stale"],
        group: "connection",
        summary: "Returns the name of the connection.",
        since: "2.6.9",
        handler: clientGetnameCommand,
      },
      setname: {
        arity: 3,
        flags: ["noscript", "loading", "stale"],
        group: "connection",
        summary: "Sets the connection name.",
        since: "2.6.9",
        arguments: [str("connection-name")],
        handler: clientSetnameCommand,
      },
      id: {
        arity: 2,
        flags: ["noscript", "loading", "stale"],
        group: "connection",
        summary: "Returns the unique client ID of the connection.",
        since: "5.0.0",
        handler: clientIdCommand,
      },
      info: {
        arity: 2,
        flags: ["noscript", "loading", "stale"],
        group: "connection",
        summary: "Returns information about the connection.",
        since: "6.2.0",
        handler: clientInfoCommand,
      },
      list: {
        arity: -2,
        flags: ["admin", "noscript", "loading", "stale"],
        group: "connection",
        summary: "Lists open connections.",
        since: "2.4.0",
        arguments: [
          optional(tokenArg("TYPE", "string", "client-type")),
          optional({ name: "client-id", type: "integer", token: "ID", multiple: true }),
        ],
        handler: clientListCommand,
      },
      kill: {
        arity: -3,
        flags: ["admin", "noscript", "loading", "stale"],
        group: "connection",
        summary: "Terminates open connections.",
        since: "2.4.0",
        arguments: [str("filter")],
        handler: clientKillCommand,
      },
      setinfo: {
        arity: 4,
        flags: ["noscript", "loading", "stale"],
        group: "connection",
        summary: "Sets information specific to the client or connection.",
        since: "7.2.0",
        arguments: [
          oneof(
            "attr",
            [tokenArg("LIB-NAME", "string", "libname"), tokenArg("LIB-VER", "string", "libver")],
            false,
          ),
        ],
        handler: clientSetinfoCommand,
      },
      "no-evict": {
        arity: 3,
        flags: ["admin", "noscript", "loading", "stale"],
        group: "connection",
        summary: "Accepted for compatibility.",
        since: "7.0.0",
        arguments: [oneof("enabled", [token("ON"), token("OFF")], false)],
        handler: clientNoEvictCommand,
      },
      help: {
        arity: 2,
        flags: ["loading", "stale"],
        group: "connection",
        summary: "Returns helpful text about the different subcommands.",
        since: "5.0.0",
        handler: clientHelpCommand,
      },
    },
  },
  // --- server (server.ts, introspection.ts)
  info: {
    arity: -1,
    flags: ["loading", "stale"],
    group: "server",
    summary: "Returns information and statistics about the server.",
    since: "1.0.0",
    arguments: [optional(str("section", true))],
    handler: infoCommand,
  },
  time: {
    arity: 1,
    flags: ["loading", "stale", "fast"],
    group: "server",
    summary: "Returns the server time.",
    since: "2.6.0",
    handler: timeCommand,
  },
  shutdown: {
    arity: -1,
    flags: ["admin", "noscript", "loading", "stale", "no_auth", "allow_busy"],
    group: "server",
    summary: "Synchronously flushes data to disk, then shuts down the server.",
    since: "1.0.0",
    arguments: [
      oneof("save-selector", [token("NOSAVE"), token("SAVE")]),
      optional(token("NOW")),
      optional(token("FORCE")),
      optional(token("ABORT")),
    ],
    handler: shutdownCommand,
  },
  config: {
    arity: -2,
    flags: [],
    group: "server",
    summary: "A container for server configuration commands.",
    since: "2.0.0",
    subcommands: {
      get: {
        arity: -3,
        flags: ["admin", "noscript", "loading", "stale"],
        group: "server",
        summary: "Returns the effective values of configuration parameters.",
        since: "2.0.0",
        arguments: [{ name: "parameter", type: "string", multiple: true }],
        handler: configGetCommand,
      },
      set: {
        arity: -4,
        flags: ["admin", "noscript", "loading", "stale"],
        group: "server",
        summary: "Sets configuration parameters in-flight.",
        since: "2.0.0",
        arguments: [
          {
            name: "data",
            type: "block",
            multiple: true,
            arguments: [str("parameter"), str("value")],
          },
        ],
        handler: configSetCommand,
      },
      resetstat: {
        arity: 2,
        flags: ["admin", "noscript", "loading", "stale"],
        group: "server",
        summary: "Resets the server's statistics.",
        since: "2.0.0",
        handler: configResetstatCommand,
      },
      help: {
        arity: 2,
        flags: ["loading", "stale"],
        group: "server",
        summary: "Returns helpful text about the different subcommands.",
        since: "5.0.0",
        handler: configHelpCommand,
      },
    },
  },
  command: {
    arity: -1,
    flags: ["loading", "stale"],
    group: "server",
    summary: "Returns detailed information about all commands.",
    since: "2.8.13",
    handler: commandCommand,
    subcommands: {
      count: {
        arity: 2,
        flags: ["loading", "stale"],
        group: "server",
        summary: "Returns a count of commands.",
        since: "2.8.13",
        handler: commandCountCommand,
      },
      docs: {
        arity: -2,
        flags: ["loading", "stale"],
        group: "server",
        summary: "Returns documentary information about one, multiple or all commands.",
        since: "7.0.0",
        arguments: [optional(str("command-name", true))],
        handler: commandDocsCommand,
      },
      info: {
        arity: -2,
        flags: ["loading", "stale"],
        group: "server",
        summary: "Returns information about one, multiple or all commands.",
        since: "2.8.13",
        arguments: [optional(str("command-name", true))],
        handler: commandInfoCommand,
      },
      list: {
        arity: -2,
        flags: ["loading", "stale"],
        group: "server",
        summary: "Returns a list of command names.",
        since: "7.0.0",
        handler: commandListCommand,
      },
      getkeys: {
        arity: -3,
        flags: ["loading", "stale"],
        group: "server",
        summary: "Extracts the key names from an arbitrary command.",
        since: "2.8.13",
        arguments: [str("command"), str("arg", true)],
        handler: commandGetkeysCommand,
      },
      help: {
        arity: 2,
        flags: ["loading", "stale"],
        group: "server",
        summary: "Returns helpful text about the different subcommands.",
        since: "5.0.0",
        handler: commandHelpCommand,
      },
    },
  },
};

function build(name: string, declaration: Declaration): CommandSpec {
  const [firstKey, lastKey, step] = declaration.keys ?? [0, 0, 0];
  const spec: CommandSpec = {
    name,
    arity: declaration.arity,
    flags: declaration.flags,
    firstKey,
    lastKey,
    step,
    group: declaration.group,
    summary: declaration.summary,
    since: declaration.since,
    complexity: declaration.complexity ?? "O(1)",
  };
  if (declaration.wholeKeyspace === true) spec.wholeKeyspace = true;
  if (declaration.arguments !== undefined) spec.arguments = declaration.arguments;
  if (declaration.handler !== undefined) spec.handler = declaration.handler;
  if (declaration.rangedHandler !== undefined) spec.rangedHandler = declaration.rangedHandler;
  if (declaration.subcommands !== undefined) {
    spec.subcommands = Object.entries(declaration.subcommands).map(([sub, d]) =>
      build(`${name}|${sub}`, d),
    );
  }
  return spec;
}

/** Every top-level command by lower-case name. */
export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(
  Object.entries(DECLARATIONS).map(([name, declaration]) => [name, build(name, declaration)]),
);

/** Subcommand lookup: "client|setname" → spec. */
export const SUBCOMMANDS: ReadonlyMap<string, CommandSpec> = new Map(
  [...COMMANDS.values()].flatMap((spec) =>
    (spec.subcommands ?? []).map((sub) => [sub.name, sub] as const),
  ),
);

/** Positions of key arguments in `args` for `spec` (first/last/step; last -1 = to the end). */
export function keyPositions(spec: CommandSpec, argCount: number): number[] {
  if (spec.firstKey === 0) return [];
  const last = spec.lastKey < 0 ? argCount + spec.lastKey : spec.lastKey;
  const positions: number[] = [];
  for (let i = spec.firstKey; i <= last && i < argCount; i += spec.step) positions.push(i);
  return positions;
}
