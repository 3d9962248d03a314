/**
 * The reply model shared by every command. Commands build values of this
 * union; the encoder turns them into RESP2 or RESP3 bytes for the protocol the
 * connection negotiated (HELLO). Keeping replies as data lets one command
 * implementation serve both protocol versions, and lets the cluster coordinator
 * inspect or merge replies before they are encoded.
 */
export type Reply =
  | { readonly kind: "simple"; readonly text: string }
  | { readonly kind: "error"; readonly text: string }
  | { readonly kind: "integer"; readonly value: number | bigint }
  | { readonly kind: "bulk"; readonly value: Uint8Array | string }
  | { readonly kind: "null" }
  /** A null where RESP2 says `*-1` (null array) rather than `$-1`. */
  | { readonly kind: "nullArray" }
  | { readonly kind: "array"; readonly items: readonly Reply[] }
  | { readonly kind: "map"; readonly entries: readonly (readonly [Reply, Reply])[] }
  | { readonly kind: "set"; readonly items: readonly Reply[] }
  | { readonly kind: "double"; readonly value: number }
  | { readonly kind: "boolean"; readonly value: boolean }
  /** RESP3 verbatim string (INFO, CLIENT INFO); a bulk string in RESP2. */
  | { readonly kind: "verbatim"; readonly format: string; readonly text: string }
  /** Nothing is written (SHUTDOWN closes the connection instead of answering). */
  | { readonly kind: "none" };

export const OK: Reply = { kind: "simple", text: "OK" };
export const PONG: Reply = { kind: "simple", text: "PONG" };
export const NULL: Reply = { kind: "null" };
export const ZERO: Reply = { kind: "integer", value: 0 };
export const ONE: Reply = { kind: "integer", value: 1 };
export const EMPTY_ARRAY: Reply = { kind: "array", items: [] };
export const NO_REPLY: Reply = { kind: "none" };

export function simple(text: string): Reply {
  return { kind: "simple", text };
}

/** An error reply; `text` starts with the error code, e.g. "ERR syntax error". */
export function error(text: string): Reply {
  return { kind: "error", text };
}

export function integer(value: number | bigint): Reply {
  return { kind: "integer", value };
}

export function bulk(value: Uint8Array | string): Reply {
  return { kind: "bulk", value };
}

export function bulkOrNull(value: Uint8Array | undefined): Reply {
  return value === undefined ? NULL : { kind: "bulk", value };
}

export function array(items: readonly Reply[]): Reply {
  return { kind: "array", items };
}

export function map(entries: readonly (readonly [Reply, Reply])[]): Reply {
  return { kind: "map", entries };
}

export function verbatim(text: string): Reply {
  return { kind: "verbatim", format: "txt", text };
}

export function isError(reply: Reply): boolean {
  return reply.kind === "error";
}
