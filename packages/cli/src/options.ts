/**
 * Option parsers shared by the subcommands. Each throws a commander
 * InvalidArgumentError, which commander prints as one line naming the option.
 */
import { InvalidArgumentError } from "commander";

export function integerOption(min: number, max: number = Number.MAX_SAFE_INTEGER) {
  return (raw: string): number => {
    if (!/^-?\d+$/.test(raw.trim())) throw new InvalidArgumentError(`"${raw}" is not an integer.`);
    const value = Number(raw);
    if (value < min || value > max) {
      throw new InvalidArgumentError(`${value} is out of range (${min}..${max}).`);
    }
    return value;
  };
}

export function numberOption(min: number, max: number = Number.POSITIVE_INFINITY) {
  return (raw: string): number => {
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(value)) {
      throw new InvalidArgumentError(`"${raw}" is not a number.`);
    }
    if (value < min || value > max)
      throw new InvalidArgumentError(`${value} is out of range (${min}..${max}).`);
    return value;
  };
}

/** "10,50,100" → [10, 50, 100], each an integer within bounds. */
export function integerListOption(min: number, max: number = Number.MAX_SAFE_INTEGER) {
  const one = integerOption(min, max);
  return (raw: string): number[] => {
    const parts = raw.split(",").map((part) => part.trim());
    if (parts.length === 0 || parts.some((part) => part === "")) {
      throw new InvalidArgumentError(`"${raw}" is not a comma-separated list of integers.`);
    }
    return parts.map(one);
  };
}

export function choiceOption<T extends string>(choices: readonly T[]) {
  return (raw: string): T => {
    if (!(choices as readonly string[]).includes(raw)) {
      throw new InvalidArgumentError(`"${raw}" is not one of ${choices.join(", ")}.`);
    }
    return raw as T;
  };
}
