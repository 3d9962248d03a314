/** Mutable counters shared by the engine's modules; Database.stats() turns them into EngineStats. */
export class Counters {
  bloomUseful = 0;
  bloomFalsePositive = 0;
  bloomTruePositive = 0;
  slowdowns = 0;
  stops = 0;
  stallMs = 0;
  flushCount = 0;
  memtableCompactions = 0;
  flushBytesWritten = 0;
  compactionCount = 0;
  compactionBytesRead = 0;
  compactionBytesWritten = 0;
  userBytesWritten = 0;
  logBytesWritten = 0;
}
