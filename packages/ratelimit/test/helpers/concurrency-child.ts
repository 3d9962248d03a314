/**
 * Child process for the multi-process concurrency test: fires `requests`
 * decisions at one key through its own Redis connection, `concurrency` in
 * flight at a time, and prints how many were admitted.
 */
import { Redis } from "ioredis";
import { compilePolicy, type Policy } from "../../src/policy.js";
import { RedisStore } from "../../src/stores/redis-store.js";

interface ChildTask {
  port: number;
  key: string;
  policy: Policy;
  requests: number;
  concurrency: number;
}

const task = JSON.parse(process.env.RL_CHILD_TASK ?? "{}") as ChildTask;
const client = new Redis({ port: task.port, host: "127.0.0.1" });
const store = new RedisStore({ client, prefix: "mp:" });
const policy = compilePolicy(task.policy);
let issued = 0;
let admitted = 0;
async function worker(): Promise<void> {
  while (issued < task.requests) {
    issued++;
    if ((await store.decide(task.key, policy, 1)).allowed) admitted++;
  }
}
await Promise.all(Array.from({ length: task.concurrency }, worker));
client.disconnect();
process.stdout.write(`${JSON.stringify({ admitted })}\n`);
