/**
 * Redis's stringmatchlen (util.c): glob matching over bytes for KEYS, SCAN
 * MATCH and CONFIG GET. `*`, `?`, `[abc]`, `[^a-z]`, and `\x` to quote.
 */
export function globMatch(pattern: Uint8Array, subject: Uint8Array, noCase = false): boolean {
  return matchFrom(pattern, 0, subject, 0, noCase, 0);
}

const MAX_NESTING = 1000;

function fold(c: number, noCase: boolean): number {
  return noCase && c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

function matchFrom(
  p: Uint8Array,
  pi: number,
  s: Uint8Array,
  si: number,
  noCase: boolean,
  nesting: number,
): boolean {
  // Redis caps recursion to keep patterns like "a*a*a*…" from exploding.
  if (nesting > MAX_NESTING) return false;
  while (pi < p.length && si < s.length) {
    const c = p[pi]!;
    if (c === 0x2a /* * */) {
      while (pi + 1 < p.length && p[pi + 1] === 0x2a) pi++;
      if (pi + 1 === p.length) return true;
      for (let k = si; k < s.length; k++) {
        if (matchFrom(p, pi + 1, s, k, noCase, nesting + 1)) return true;
      }
      return false;
    }
    if (c === 0x3f /* ? */) {
      si++;
    } else if (c === 0x5b /* [ */) {
      pi++;
      const negate = p[pi] === 0x5e;
      if (negate) pi++;
      let matched = false;
      for (;;) {
        if (pi >= p.length) {
          pi--;
          break;
        }
        const d = p[pi]!;
        if (d === 0x5c && pi + 1 < p.length) {
          pi++;
          if (fold(p[pi]!, noCase) === fold(s[si]!, noCase)) matched = true;
        } else if (d === 0x5d /* ] */) {
          break;
        } else if (pi + 2 < p.length && p[pi + 1] === 0x2d /* - */) {
          let start = fold(d, noCase);
          let end = fold(p[pi + 2]!, noCase);
          if (start > end) [start, end] = [end, start];
          const x = fold(s[si]!, noCase);
          pi += 2;
          if (x >= start && x <= end) matched = true;
        } else if (fold(d, noCase) === fold(s[si]!, noCase)) {
          matched = true;
        }
        pi++;
      }
      if (negate) matched = !matched;
      if (!matched) return false;
      si++;
    } else if (c === 0x5c /* \ */ && pi + 1 < p.length) {
      pi++;
      if (fold(p[pi]!, noCase) !== fold(s[si]!, noCase)) return false;
      si++;
    } else {
      if (fold(c, noCase) !== fold(s[si]!, noCase)) return false;
      si++;
    }
    pi++;
  }
  while (pi < p.length && p[pi] === 0x2a) pi++;
  return pi === p.length && si === s.length;
}
