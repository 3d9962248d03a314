/**
 * Text and JSON renderings of estimates and reference tables. Text is for
 * reading and checking by hand; JSON carries the same content with unrounded
 * values for machines.
 */
import { type Estimate, formatDifference } from "./estimate.js";
import { formatGrouped } from "./number-text.js";
import type { ReferenceTable } from "./tables.js";

const INDENT = "  ";

export function renderEstimateText(estimate: Estimate): string {
  const out: string[] = [];
  const title = [estimate.name, estimate.description].filter(Boolean).join(": ");
  if (title !== "") out.push(title, "");

  out.push("Assumptions");
  const fieldWidth = Math.max(...estimate.assumptions.map((line) => line.field.length), 0);
  for (const line of estimate.assumptions) {
    const mark = line.defaulted ? "  (default)" : "";
    out.push(`${INDENT}${line.field.padEnd(fieldWidth)}  ${line.human}${mark}`);
  }

  out.push("", "Estimates");
  for (const line of estimate.lines) {
    out.push(`${INDENT}${line.label} = ${line.formula}`);
    const result = line.formula === "given" ? line.human : `${line.substituted} = ${line.human}`;
    out.push(`${INDENT}${INDENT}= ${result}`);
  }

  if (estimate.comparisons.length > 0) {
    const source = estimate.comparisons[0]?.source ?? "";
    out.push("", `Compared with ${source}`);
    for (const comparison of estimate.comparisons) {
      out.push(
        `${INDENT}${comparison.key}: exact ${comparison.exactHuman}; quoted ${comparison.quoted} (${formatDifference(comparison.differencePercent)})`,
      );
      out.push(`${INDENT}${INDENT}${comparison.explanation}`);
    }
  }

  if (estimate.notes.length > 0) {
    out.push("", "Notes");
    for (const note of estimate.notes) out.push(`${INDENT}- ${note}`);
  }
  return `${out.join("\n")}\n`;
}

export function renderEstimateJson(estimate: Estimate): string {
  return `${JSON.stringify(estimate, null, 2)}\n`;
}

export function renderTableText(table: ReferenceTable): string {
  const headings = table.columns.map((column) => column.heading);
  const cells = table.rows.map((row) =>
    table.columns.map((column) => {
      const cell = row[column.key];
      return typeof cell === "number" ? formatGrouped(cell) : (cell ?? "");
    }),
  );
  const widths = headings.map((heading, index) =>
    Math.max(heading.length, ...cells.map((row) => (row[index] ?? "").length)),
  );
  const numeric = table.columns.map((column) =>
    table.rows.every((row) => typeof row[column.key] === "number"),
  );
  const format = (row: readonly string[]): string =>
    row
      .map((cell, index) =>
        numeric[index] ? cell.padStart(widths[index] ?? 0) : cell.padEnd(widths[index] ?? 0),
      )
      .join("  ")
      .trimEnd();
  const out = [
    table.title,
    `Source: ${table.source}`,
    "",
    format(headings),
    format(widths.map((width) => "-".repeat(width))),
    ...cells.map(format),
  ];
  if (table.notes.length > 0) {
    out.push("", ...table.notes.map((note) => `- ${note}`));
  }
  return `${out.join("\n")}\n`;
}

export function renderTableJson(table: ReferenceTable): string {
  return `${JSON.stringify(table, null, 2)}\n`;
}
