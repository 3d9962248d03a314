/**
 * Hot reload: watches the rules file or directory and reloads after changes
 * settle. A new set that fails to load is reported and the old one keeps
 * serving, so a typo in production never drops every limit.
 */
import { EventEmitter } from "node:events";
import { type FSWatcher, statSync, watch } from "node:fs";
import { basename, dirname } from "node:path";
import { loadRuleSet, type RuleSet } from "./rule-set.js";

/** Editors write a file in several steps; wait for them to settle before reloading. */
export const RELOAD_DEBOUNCE_MS_DEFAULT = 100;

export interface RuleWatcherOptions {
  path: string;
  debounceMs?: number;
}

/**
 * Events: "reload" (rules: RuleSet) after a successful reload, "error" (error)
 * when a reload failed and the previous rules stay.
 */
export class RuleWatcher extends EventEmitter {
  private current: RuleSet;
  private readonly path: string;
  private readonly debounceMs: number;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  reloads = 0;
  failures = 0;

  /** Loads the rules once (throwing if they are invalid) and starts watching. */
  constructor(options: RuleWatcherOptions) {
    super();
    this.path = options.path;
    this.debounceMs = options.debounceMs ?? RELOAD_DEBOUNCE_MS_DEFAULT;
    this.current = loadRuleSet(this.path);
    const isDirectory = statSync(this.path).isDirectory();
    // Watch the directory even for a single file: editors and config managers
    // replace files by rename, which a watch on the file itself would lose.
    const directory = isDirectory ? this.path : dirname(this.path);
    const fileName = isDirectory ? undefined : basename(this.path);
    this.watcher = watch(directory, (_event, changed) => {
      if (fileName !== undefined && changed !== null && changed !== fileName) return;
      this.schedule();
    });
    this.watcher.on("error", (error) => this.emit("error", error));
  }

  get rules(): RuleSet {
    return this.current;
  }

  private schedule(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.reload();
    }, this.debounceMs);
  }

  /** Reloads now; returns whether the new rules were taken. */
  reload(): boolean {
    try {
      this.current = loadRuleSet(this.path);
      this.reloads++;
      this.emit("reload", this.current);
      return true;
    } catch (error) {
      this.failures++;
      this.emit("error", error);
      return false;
    }
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
