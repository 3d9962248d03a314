/**
 * Command scheduler: how Redis's atomicity survives an asynchronous engine.
 *
 * Redis runs one command at a time, so INCR, SET NX, MSETNX and RENAME are
 * atomic for free. Our lsm engine answers with promises, so a command can be
 * suspended between its read and its write. We serialize **per key**, not
 * globally: each command lists the keys it touches (from the command table's
 * key positions), waits for every earlier command on any of those keys, runs,
 * then releases them. Commands on different keys run concurrently, which is
 * what lets many clients share one group commit with `appendfsync always`;
 * a global queue would fsync once per command. Whole-keyspace commands
 * (FLUSHALL, KEYS, SCAN, DBSIZE, RANDOMKEY) take a barrier: they wait for
 * everything before them, and everything after waits for them.
 *
 * Order guarantees: commands are admitted in arrival order, so two commands on
 * a common key run in the order they arrived (a client's pipelined
 * `SET k 1; GET k` always sees its own write); replies go back in request
 * order (the connection keeps a reply queue). One difference from Redis:
 * a client's pipelined commands on *different* keys may complete out of order
 * when the engine is asynchronous, so a third client can briefly observe the
 * later write before the earlier one.
 */

/**
 * What the dispatcher needs from a scheduler. `sequentialClients` asks each
 * connection to start a command only once its previous one has finished.
 */
export interface Scheduler {
  readonly sequentialClients: boolean;
  /** False when `run` ignores its scope (so callers need not compute one). */
  readonly usesLocks: boolean;
  readonly pending: number;
  /** True when nothing is in flight or queued: a command may start at once, unlocked. */
  readonly idle: boolean;
  run<T>(scope: LockScope, task: () => T | Promise<T>): T | Promise<T>;
  /**
   * Locks `scope` for a command that started at once while `idle` and returned
   * a promise, until it settles (nothing ran in between, so the order is the
   * same as if it had locked first).
   */
  adopt<T>(scope: LockScope, pending: Promise<T>): Promise<T>;
  /** Resolves when every admitted command has finished (graceful shutdown). */
  drained(): Promise<void>;
}

export type LockScope =
  | { readonly kind: "none" }
  | { readonly kind: "keys"; readonly keys: readonly string[] }
  | { readonly kind: "all" };

export const NO_LOCK: LockScope = { kind: "none" };
export const ALL_KEYS: LockScope = { kind: "all" };

export class CommandScheduler implements Scheduler {
  readonly sequentialClients = false;
  readonly usesLocks = true;
  private readonly tails = new Map<string, Promise<void>>();
  private barrier: Promise<void> | undefined;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  /** Commands admitted and not yet finished. */
  get pending(): number {
    return this.inFlight;
  }

  /**
   * Runs `task` once every earlier command on its keys has finished. Fast
   * path: when nothing is in flight on those keys (and no barrier), the task
   * runs at once; if it finishes synchronously — the lsm engine answering
   * from memory — no lock is taken and no promise is made. If it returns a
   * promise, its keys are locked from that moment until it settles (nothing
   * else ran in between, so the order is the same as if it had locked first).
   */
  run<T>(scope: LockScope, task: () => T | Promise<T>): T | Promise<T> {
    if (scope.kind === "none") return this.track(task);
    if (
      this.barrier === undefined &&
      (scope.kind === "all" ? this.tails.size === 0 : this.free(scope.keys))
    ) {
      let result: T | Promise<T>;
      try {
        result = task();
      } catch (error) {
        return Promise.reject(error);
      }
      if (!(result instanceof Promise)) return result;
      // Nothing to wait for: the queue takes the locks at once and holds them until it settles.
      return this.queue(scope, () => result);
    }
    return this.queue(scope, task);
  }

  /** True when no command in flight holds any of `keys`. */
  private free(keys: readonly string[]): boolean {
    if (this.tails.size === 0) return true;
    for (const key of keys) if (this.tails.has(key)) return false;
    return true;
  }

  /**
   * Waits for the commands ahead on the keys (or for everything, for "all"),
   * then runs `task`, holding the keys (or the barrier) until it settles.
   */
  private queue<T>(scope: LockScope, task: () => T | Promise<T>): Promise<T> {
    const waits: Promise<void>[] = [];
    if (this.barrier !== undefined) waits.push(this.barrier);
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    if (scope.kind === "all") {
      for (const tail of this.tails.values()) waits.push(tail);
      this.barrier = done;
      const result = this.track(() =>
        waits.length === 0 ? task() : Promise.all(waits).then(task),
      );
      void result.then(
        () => this.releaseBarrier(done, release),
        () => this.releaseBarrier(done, release),
      );
      return result;
    }
    const keys = scope.kind === "keys" ? scope.keys : [];
    for (const key of keys) {
      const tail = this.tails.get(key);
      // A key may be listed twice (MSET k v k v): never wait on ourselves.
      if (tail !== undefined && tail !== done) waits.push(tail);
      this.tails.set(key, done);
    }
    const start =
      waits.length === 0
        ? task
        : waits.length === 1
          ? () => waits[0]!.then(task)
          : () => Promise.all(waits).then(task);
    const result = this.track(start);
    const finish = (): void => {
      for (const key of keys) if (this.tails.get(key) === done) this.tails.delete(key);
      release();
    };
    void result.then(finish, finish);
    return result;
  }

  get idle(): boolean {
    return this.barrier === undefined && this.tails.size === 0;
  }

  adopt<T>(scope: LockScope, pending: Promise<T>): Promise<T> {
    return this.queue(scope, () => pending);
  }

  /** Resolves when every admitted command has finished (graceful shutdown). */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private releaseBarrier(done: Promise<void>, release: () => void): void {
    if (this.barrier === done) this.barrier = undefined;
    release();
  }

  private track<T>(start: () => T | Promise<T>): Promise<T> {
    this.inFlight++;
    let result: Promise<T>;
    try {
      result = Promise.resolve(start());
    } catch (error) {
      result = Promise.reject(error);
    }
    const settle = (): void => {
      this.inFlight--;
      if (this.inFlight === 0 && this.idleWaiters.length > 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const wake of waiters) wake();
      }
    };
    result.then(settle, settle);
    return result;
  }
}

/**
 * The scheduler for the memory engine: no locks at all. Sound because of
 * two facts, both load-bearing: (1) the memory engine never waits on I/O,
 * so a command started in one event-loop turn finishes within that turn's
 * microtasks, before any other socket's data is processed; (2) each
 * connection starts its next command only when the previous one finished
 * (`sequentialClients`), so the commands of one pipeline cannot interleave
 * at their awaits either. memcached connections keep a per-key scheduler of
 * their own, since they start pipelined commands together. Together this is
 * Redis's model — one command at a time — at no locking cost.
 */
export class ImmediateScheduler implements Scheduler {
  readonly sequentialClients = true;
  readonly usesLocks = false;
  readonly pending = 0;
  readonly idle = true;

  run<T>(_scope: LockScope, task: () => T | Promise<T>): T | Promise<T> {
    return task();
  }

  adopt<T>(_scope: LockScope, pending: Promise<T>): Promise<T> {
    return pending;
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }
}
