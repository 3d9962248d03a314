/** Child of lock.test.ts: opens the database, says so, and waits to be killed. */
import { open } from "../../src/index.js";

const dir = process.argv[2]!;
await open(dir);
process.stdout.write("open\n");
setInterval(() => {}, 1000);
