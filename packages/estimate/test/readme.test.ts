/**
 * The README's sample outputs are the real outputs: each block marked
 * `<!-- output: <args> -->` (optionally `(from "<text>")`) must equal what
 * `scaleout <args>` prints today, and each `$ scaleout ...` bad-input example
 * must print the line shown after it.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const readme = readFileSync(join(root, "packages", "estimate", "README.md"), "utf8");

function scaleout(args: string[]) {
  const run = spawnSync(
    process.execPath,
    [join(root, "packages", "cli", "dist", "main.js"), ...args],
    {
      cwd: root,
      encoding: "utf8",
      timeout: 30_000,
    },
  );
  return { stdout: run.stdout, stderr: run.stderr, code: run.status };
}

/** Splits a shell-like command line: words, and "double-quoted" words. */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2] ?? "");
}

const outputBlocks = [
  ...readme.matchAll(/<!-- output: (.*?)(?: \(from "(.*?)"\))? -->\n```text\n([\s\S]*?)```/g),
];
const badInputExamples = [...readme.matchAll(/^\$ scaleout (.*)\n(scaleout: .*)$/gm)];

describe("README", () => {
  it("has sample outputs and bad-input examples to check", () => {
    expect(outputBlocks.length).toBeGreaterThanOrEqual(3);
    expect(badInputExamples.length).toBeGreaterThanOrEqual(2);
  });

  it.each(outputBlocks.map((match) => [match[1] ?? "", match[2], match[3] ?? ""]))(
    "shows the real output of `scaleout %s`",
    (command, from, shown) => {
      const run = scaleout(words(command));
      expect(run.code).toBe(0);
      const expected = from === undefined ? run.stdout : run.stdout.slice(run.stdout.indexOf(from));
      expect(shown).toBe(expected);
    },
  );

  it("quotes the example assumption file as it is", () => {
    const quoted = /`packages\/estimate\/examples\/(.*?\.yaml)`:\n\n```yaml\n([\s\S]*?)```/.exec(
      readme,
    );
    expect(quoted).not.toBeNull();
    const [, name, text] = quoted ?? [];
    expect(text).toBe(
      readFileSync(join(root, "packages", "estimate", "examples", name ?? ""), "utf8"),
    );
  });

  it.each(
    badInputExamples
      .filter((match) => !(match[1] ?? "").includes(".yaml"))
      .map((match) => [match[1] ?? "", match[2] ?? ""]),
  )("`scaleout %s` prints the documented error", (command, line) => {
    const run = scaleout(words(command));
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`${line}\n`);
  });
});
