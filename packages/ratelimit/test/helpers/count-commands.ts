import type { Redis } from "ioredis";

/** Counts commands an ioredis client sends: each awaited command is one round trip. */
export function countCommands(client: Redis): { count: () => number } {
  let sent = 0;
  const original = client.sendCommand.bind(client);
  client.sendCommand = ((...args: Parameters<Redis["sendCommand"]>) => {
    sent++;
    return original(...args);
  }) as Redis["sendCommand"];
  return { count: () => sent };
}
