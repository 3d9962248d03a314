export { exitOf, isRunning, stopChild } from "./child.js";
export {
  CLI_PATH,
  type CliOptions,
  type CliProcess,
  type CliResult,
  type LineMatcher,
  type RunCliOptions,
  type RunCliSyncOptions,
  runCli,
  runCliSync,
  spawnCli,
} from "./cli.js";
export { LOOPBACK, RUN_TIMEOUT_MS, START_TIMEOUT_MS, STOP_GRACE_MS } from "./limits.js";
export { canConnect, freePort, type WaitForPortOptions, waitForPort } from "./ports.js";
export {
  type AppendFsync,
  answersPing,
  type RedisServer,
  type RedisServerOptions,
  redisServerArgs,
  startRedisServer,
} from "./redis-server.js";
export { type TempDir, tempDir } from "./temp-dir.js";
