/**
 * A member's address as gossiped: `host:peerPort;resp=<port>;http=<port>`.
 * The core treats it as opaque; the transport dials `host:peerPort`, and
 * cluster-aware clients and tools find a member's Redis-protocol and HTTP
 * ports in the same string, so no second membership list is needed.
 */
import { ShellError, ShellErrorCode } from "./errors.js";

export interface MemberAddress {
  readonly host: string;
  readonly peerPort: number;
  /** Redis-protocol port (0 when unknown). */
  readonly respPort: number;
  /** HTTP port (0 when off or unknown). */
  readonly httpPort: number;
}

export function formatMemberAddress(address: MemberAddress): string {
  return `${address.host}:${address.peerPort};resp=${address.respPort};http=${address.httpPort}`;
}

export function parseMemberAddress(text: string): MemberAddress {
  const [hostPort = "", ...attributes] = text.split(";");
  const { host, port } = parseHostPort(hostPort);
  let respPort = 0;
  let httpPort = 0;
  for (const attribute of attributes) {
    const [name, value = ""] = attribute.split("=");
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) continue;
    if (name === "resp") respPort = parsed;
    if (name === "http") httpPort = parsed;
  }
  return { host, peerPort: port, respPort, httpPort };
}

/** `host:port` (IPv6 in brackets) → parts; throws CLUSTER_CONFIG naming the text. */
export function parseHostPort(text: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(text.trim());
  const port = match === null ? Number.NaN : Number(match[2]);
  if (match === null || match[1] === "" || !(port >= 1 && port <= 65_535)) {
    throw new ShellError(ShellErrorCode.CLUSTER_CONFIG, `"${text}" is not host:port`);
  }
  return { host: match[1]!, port };
}
