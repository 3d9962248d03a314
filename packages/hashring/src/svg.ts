/**
 * A picture of a ring as SVG: the circle is the hash space (0 at the top,
 * growing clockwise); each arc is coloured by the node owning it, each
 * virtual node is a tick, and the legend gives every node's points and share
 * of the hash space.
 */
import { HASH_SPACE } from "./constants.js";
import type { HashRing } from "./ring.js";

export interface RingSvgOptions {
  /** Title drawn above the ring. */
  readonly title?: string;
  /** Diameter of the ring in pixels (default 560). */
  readonly diameterPx?: number;
}

/** Distinct, colour-blind-friendly first colours (Okabe-Ito plus Tableau); more nodes get spread hues. */
const PALETTE = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#D55E00",
  "#CC79A7",
  "#56B4E9",
  "#F0E442",
  "#000000",
  "#8C564B",
  "#7F7F7F",
  "#BCBD22",
  "#17BECF",
];
const GOLDEN_ANGLE_DEGREES = 137.508;

export function nodeColor(index: number): string {
  return PALETTE[index] ?? `hsl(${((index * GOLDEN_ANGLE_DEGREES) % 360).toFixed(1)}, 65%, 45%)`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderRingSvg(ring: HashRing, options: RingSvgOptions = {}): string {
  const diameter = options.diameterPx ?? 560;
  const radius = diameter / 2;
  const margin = 40;
  const legendLineHeight = 22;
  const nodes = ring.nodes();
  const layout = ring.layout();
  const { points, owners } = layout;
  const colorOf = new Map(nodes.map((node, index) => [node.id, nodeColor(index)] as const));
  const centerX = margin + radius;
  const centerY = margin + 30 + radius;
  const legendX = diameter + 2 * margin + 10;
  const width = legendX + 320;
  const height = Math.max(centerY + radius + margin, 70 + legendLineHeight * (nodes.length + 1));

  const at = (hash: number, r: number): string => {
    const angle = (hash / HASH_SPACE) * 2 * Math.PI - Math.PI / 2;
    return `${(centerX + r * Math.cos(angle)).toFixed(2)},${(centerY + r * Math.sin(angle)).toFixed(2)}`;
  };
  const share = new Map<string, number>();
  const arcs: string[] = [];
  const ticks: string[] = [];
  for (let i = 0; i < points.length; i++) {
    const end = points[i]!;
    const start = i === 0 ? points[points.length - 1]! - HASH_SPACE : points[i - 1]!;
    const id = layout.nodes[owners[i]!]!.id;
    const span = end - start;
    share.set(id, (share.get(id) ?? 0) + span / HASH_SPACE);
    if (span === HASH_SPACE) {
      // A single point owns the whole circle; an SVG arc cannot end where it starts.
      arcs.push(
        `<circle cx="${centerX}" cy="${centerY}" r="${radius}" stroke="${colorOf.get(id)}"/>`,
      );
    } else if (span > 0) {
      const largeArc = span > HASH_SPACE / 2 ? 1 : 0;
      const from = at(start < 0 ? start + HASH_SPACE : start, radius);
      arcs.push(
        `<path d="M${from} A${radius},${radius} 0 ${largeArc} 1 ${at(end, radius)}" stroke="${colorOf.get(id)}"/>`,
      );
    }
    const [innerX, innerY] = at(end, radius - 22).split(",");
    const [outerX, outerY] = at(end, radius + 14).split(",");
    ticks.push(
      `<line x1="${innerX}" y1="${innerY}" x2="${outerX}" y2="${outerY}" stroke="${colorOf.get(id)}"/>`,
    );
  }
  const legend = nodes.map((node, index) => {
    const y = 70 + legendLineHeight * (index + 1);
    const label = `${node.id}${node.zone === undefined ? "" : ` [${node.zone}]`}: ${node.points} points, ${(
      100 * (share.get(node.id) ?? 0)
    ).toFixed(1)}% of keys`;
    return (
      `<rect x="${legendX}" y="${y - 13}" width="16" height="16" fill="${colorOf.get(node.id)}"/>` +
      `<text x="${legendX + 24}" y="${y}">${escapeXml(label)}</text>`
    );
  });
  const title =
    options.title ?? `${ring.mode} ring: ${nodes.length} nodes, ${points.length} points`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="14">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${margin}" y="36" font-size="18" font-weight="bold">${escapeXml(title)}</text>`,
    `<g fill="none" stroke-width="14">${arcs.join("")}</g>`,
    `<g stroke-width="1.2" opacity="0.8">${ticks.join("")}</g>`,
    `<text x="${centerX}" y="${centerY - radius - 20}" text-anchor="middle" font-size="12">0</text>`,
    `<text x="${legendX}" y="70" font-weight="bold">nodes (tick = virtual node)</text>`,
    ...legend,
    "</svg>",
    "",
  ].join("\n");
}
