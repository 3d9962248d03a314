#!/usr/bin/env node
// Committed launcher so npm can link the binary before `tsc -b` has built dist/.
import "../dist/main.js";
