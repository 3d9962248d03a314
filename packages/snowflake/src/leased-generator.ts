/**
 * A generator whose machine id is leased from Redis: the lease is the
 * generator's IssueGuard (no lease, no ids) and, when a lost lease is
 * re-acquired, the generator is rebound to the (possibly different) id.
 */
import { type GeneratorOptions, SnowflakeGenerator } from "./generator.js";
import { geometryOf } from "./layout.js";
import { type LeaseOptions, WorkerIdLease } from "./lease.js";

export interface LeasedGeneratorOptions
  extends Omit<GeneratorOptions, "machine" | "guard" | "startAfterMs"> {
  lease: Omit<LeaseOptions, "datacenter" | "maxMachine">;
}

export interface LeasedGenerator {
  generator: SnowflakeGenerator;
  lease: WorkerIdLease;
  /** Closes the generator (flushing its state file) and releases the lease. */
  close(): Promise<void>;
}

export async function createLeasedGenerator(
  options: LeasedGeneratorOptions,
): Promise<LeasedGenerator> {
  const datacenter = options.datacenter ?? 0;
  const { maxMachine } = geometryOf(options.layout);
  const lease = await WorkerIdLease.acquire({ ...options.lease, datacenter, maxMachine });
  let generator: SnowflakeGenerator;
  try {
    const generatorOptions: GeneratorOptions = {
      ...options,
      datacenter,
      machine: lease.machine,
      guard: lease,
    };
    if (lease.previousMarkMs !== null) generatorOptions.startAfterMs = lease.previousMarkMs;
    generator = new SnowflakeGenerator(generatorOptions);
  } catch (error) {
    await lease.release(null);
    throw error;
  }
  lease.onReacquired((machine, previousMarkMs) =>
    generator.rebind(datacenter, machine, previousMarkMs),
  );
  return {
    generator,
    lease,
    async close() {
      generator.close();
      await lease.release(generator.lastTimestampMs);
    },
  };
}
