/**
 * Named assumption sets. A preset is raw assumptions (the same shape a YAML
 * file has, validated the same way) plus, where it comes from a book, the
 * figures the book quotes, so the output can show where its rounding differs
 * from exact arithmetic.
 */
import type { RawAssumptions } from "./assumptions.js";
import { EstimateError, EstimateErrorCode } from "./errors.js";
import type { Reference } from "./estimate.js";

export interface Preset {
  readonly name: string;
  readonly summary: string;
  readonly raw: RawAssumptions;
  readonly reference: Reference | undefined;
}

const CHAPTER_2 = "System Design Interview, chapter 2 (Twitter QPS and storage)";

/**
 * The chapter's worked example. The text kind follows the chapter's own text
 * estimate (140 bytes on the 90% of tweets without media); tweet_id is listed
 * in the chapter's "average tweet size" but not estimated there.
 */
const TWITTER: Preset = {
  name: "twitter",
  summary:
    "chapter 2 worked example: 300M MAU, 50% daily, 2 tweets/day, 10% with 1 MB media, 5 years",
  raw: {
    name: "twitter",
    description: "Twitter QPS and storage, the worked example of chapter 2",
    action: "tweet",
    monthly_active_users: "300m",
    daily_active_fraction: "50%",
    actions_per_user_per_day: 2,
    peak_factor: 2,
    objects: {
      tweet_id: "64 bytes",
      text: "140 bytes @ 90%",
      media: "1 MB @ 10%",
    },
    retention: "5 years",
    notes: [
      "The chapter lists a 64-byte tweet_id in the average tweet size but estimates no storage for it; it is included here.",
      "Text follows the chapter's own text estimate: 140 bytes on the 90% of tweets that carry no media.",
    ],
  },
  reference: {
    source: CHAPTER_2,
    figures: [
      {
        key: "write_qps",
        quoted: "~3500",
        value: 3500,
        explanation:
          "150M × 2 / 86,400 s = 3,472.2/s; the chapter rounds to two significant figures.",
      },
      {
        key: "peak_write_qps",
        quoted: "~7000",
        value: 7000,
        explanation: "The chapter doubles its rounded 3,500; 2 × 3,472.2 = 6,944.4/s.",
      },
      {
        key: "storage_per_day.media",
        quoted: "~30 TB per day",
        value: 30e12,
        explanation:
          "Exact in decimal units: 300M tweets × 10% × 10^6 bytes = 3 × 10^13 bytes (27.3 TiB in binary units).",
      },
      {
        key: "storage_over_retention.media",
        quoted: "~55 PB",
        value: 55e15,
        explanation: "30 TB × 365 × 5 = 54,750 TB = 54.75 PB, which the chapter rounds up to 55.",
      },
      {
        key: "storage_per_day.text",
        quoted: "~35 GB per day",
        value: 35e9,
        explanation:
          "The chapter gets 37,800,000,000 bytes right, then calls it ~35 GB: that is 35.2 GiB (÷ 2^30), binary units, while its media line uses decimal ones. In decimal units it is 37.8 GB.",
      },
      {
        key: "storage_over_retention.text",
        quoted: "~62 TB",
        value: 62e12,
        explanation:
          "The chapter multiplies its rounded 35 GB by 365 × 5 (63,875 GB) and divides by 1,024: binary units again. Exact: 6.9 × 10^13 bytes = 69 TB (62.7 TiB).",
      },
    ],
  },
};

export const PRESETS: ReadonlyMap<string, Preset> = new Map([[TWITTER.name, TWITTER]]);

export function findPreset(name: string): Preset {
  const preset = PRESETS.get(name);
  if (preset === undefined) {
    throw new EstimateError(
      EstimateErrorCode.UNKNOWN_PRESET,
      "preset",
      `no preset named "${name}" (known: ${[...PRESETS.keys()].join(", ")})`,
    );
  }
  return preset;
}
