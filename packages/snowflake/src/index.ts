/**
 * @scaleout/snowflake: 64-bit, time-sortable unique ids (Twitter Snowflake
 * and friends) with configurable layouts, clock-rollback safety, a
 * restart-safety state file and worker ids leased from Redis.
 */
export { type Clock, ManualClock, systemClock } from "./clock.js";
export {
  CONFIG_FIELDS,
  type ConfigField,
  type ConfigSources,
  DEFAULT_CONFIG,
  envName,
  type IdServiceConfig,
  layoutOf,
  type RawConfig,
  resolveIdServiceConfig,
} from "./config.js";
export {
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_MAX_BACKWARDS_MS,
  DEFAULT_MAX_STARTUP_WAIT_MS,
  DEFAULT_RESERVE_AHEAD_MS,
  MAX_BATCH_COUNT,
  MAX_LAG_MS,
} from "./constants.js";
export { type DecodedId, decode, ID_LIMIT, parseCount, parseId } from "./decode.js";
export {
  ClockBackwardsError,
  ClockBehindReservationError,
  LeaseLostError,
  SnowflakeError,
  SnowflakeErrorCode,
} from "./errors.js";
export { type GeneratorOptions, type IssueGuard, SnowflakeGenerator } from "./generator.js";
export {
  type FieldOrder,
  geometryOf,
  isPresetName,
  type Layout,
  type LayoutGeometry,
  PRESET_NAMES,
  PRESETS,
  type PresetName,
  type PresetOptions,
  preset,
  theoreticalIdsPerSecond,
  validateLayout,
} from "./layout.js";
export { type LeaseEvent, type LeaseOptions, WorkerIdLease } from "./lease.js";
export {
  createLeasedGenerator,
  type LeasedGenerator,
  type LeasedGeneratorOptions,
} from "./leased-generator.js";
export { closeOnSignals, type IdService, type StartOptions, startIdService } from "./service.js";
export { readStateFile, type StateRecord, writeStateFile } from "./state-file.js";
