/**
 * Deterministic randomness: the same seed and the same inputs always give the same number, on
 * any machine and in any order of arrival. Hash (FNV-1a, 32-bit) the inputs, then one round of
 * mulberry32 to spread the bits. Not for cryptography; for reproducible test outcomes.
 */
export function unit(seed: number, ...parts: (string | number)[]): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (const part of parts) {
    const s = `${part}\u0000`;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  let t = (h + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Picks a key of `weights` with probability proportional to its weight, from u in [0, 1). */
export function pick<K extends string>(weights: Partial<Record<K, number>>, u: number): K | null {
  const entries = Object.entries(weights) as [K, number][];
  const total = entries.reduce((sum, [, w]) => sum + Math.max(0, w), 0);
  if (total <= 0) return null;
  let x = u * total;
  for (const [key, w] of entries) {
    if (w <= 0) continue;
    if (x < w) return key;
    x -= w;
  }
  return entries.findLast(([, w]) => w > 0)![0];
}

/** A value in [min, max] drawn from u. */
export const between = (range: { minMs: number; maxMs: number }, u: number) =>
  Math.round(range.minMs + (range.maxMs - range.minMs) * u);
