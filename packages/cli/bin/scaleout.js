#!/usr/bin/env -S node --max-semi-space-size=32
// Committed launcher so npm can link the binary before `tsc -b` has built dist/.
// The V8 flag is @scaleout/kv's NODE_PROCESS_FLAGS (see packages/kv/src/limits.ts).
import "../dist/main.js";
