/**
 * Redis's error replies, verbatim (Redis 7, server.c / t_string.c / expire.c).
 * Clients and tests match on these texts, so they must not drift.
 */
import { error, type Reply } from "../resp/reply.js";

export const SYNTAX_ERROR = error("ERR syntax error");
export const NOT_INTEGER = error("ERR value is not an integer or out of range");
export const NOT_FLOAT = error("ERR value is not a valid float");
export const OVERFLOW = error("ERR increment or decrement would overflow");
export const DECREMENT_OVERFLOW = error("ERR decrement would overflow");
export const NAN_OR_INFINITY = error("ERR increment would produce NaN or Infinity");
export const NO_SUCH_KEY = error("ERR no such key");
export const STRING_TOO_LONG = error(
  "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
);
export const OFFSET_OUT_OF_RANGE = error("ERR offset is out of range");
export const INVALID_CURSOR = error("ERR invalid cursor");
export const NOAUTH = error("NOAUTH Authentication required.");
export const WRONGPASS = error("WRONGPASS invalid username-password pair or user is disabled.");
export const AUTH_WITHOUT_PASSWORD = error(
  "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
);
export const OOM = error("OOM command not allowed when used memory > 'maxmemory'.");
export const DB_INDEX_OUT_OF_RANGE = error("ERR DB index is out of range");
export const NOPROTO = error("NOPROTO unsupported protocol version");
export const MAX_CLIENTS_REACHED = "ERR max number of clients reached";

export function wrongArity(fullName: string): Reply {
  return error(`ERR wrong number of arguments for '${fullName}' command`);
}

export function invalidExpireTime(fullName: string): Reply {
  return error(`ERR invalid expire time in '${fullName}' command`);
}

export function unknownSubcommand(subcommand: string, container: string): Reply {
  return error(
    `ERR unknown subcommand '${truncate(subcommand, 128)}'. Try ${container.toUpperCase()} HELP.`,
  );
}

/** Redis: "unknown command 'x', with args beginning with: 'a' 'b' " (args cut at 128 chars). */
export function unknownCommand(args: readonly Buffer[]): Reply {
  let list = "";
  for (let i = 1; i < args.length && list.length < 128; i++) {
    list += `'${cString(args[i]!).slice(0, 128 - list.length)}' `;
  }
  return error(
    sanitize(
      `ERR unknown command '${truncate(cString(args[0]!), 128)}', with args beginning with: ${list}`,
    ),
  );
}

export function keyTooLong(maxKeyBytes: number): Reply {
  return error(`ERR key is too long (max ${maxKeyBytes} bytes)`);
}

/** Redis formats error arguments with %s: text stops at a NUL byte. */
function cString(buffer: Buffer): string {
  const nul = buffer.indexOf(0);
  return (nul === -1 ? buffer : buffer.subarray(0, nul)).toString("latin1");
}

function truncate(text: string, length: number): string {
  return text.length > length ? text.slice(0, length) : text;
}

/** addReplyErrorLength: an error reply must not contain CR or LF. */
export function sanitize(text: string): string {
  return text.replace(/[\r\n]/g, " ");
}
