/** Ranking formulas of api.md, computed in one place so both stores store identical values. */

/** Reddit's hot: round(sign(s)·log10(max(|s|,1)) + (createdAtSeconds − 1134028003)/45000, 7). */
export function hot(up: number, down: number, createdAtMs: number): number {
  const s = up - down;
  const order = Math.log10(Math.max(Math.abs(s), 1));
  const sign = s > 0 ? 1 : s < 0 ? -1 : 0;
  const seconds = createdAtMs / 1000 - 1134028003;
  return Math.round((sign * order + seconds / 45000) * 1e7) / 1e7;
}

/** (up+down)^(min/max) when both are > 0, else 0. */
export function controversy(up: number, down: number): number {
  if (up <= 0 || down <= 0) return 0;
  return (up + down) ** (Math.min(up, down) / Math.max(up, down));
}

/** Lower bound of the Wilson score interval at z = 1.281551565545 (80 %); 0 without votes. */
export function wilson(up: number, down: number): number {
  const n = up + down;
  if (n === 0) return 0;
  const z = 1.281551565545;
  const p = up / n;
  return (p + (z * z) / (2 * n) - z * Math.sqrt((p * (1 - p) + (z * z) / (4 * n)) / n)) / (1 + (z * z) / n);
}

export const WINDOWS = {
  hour: 3600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 30 * 86_400_000,
  year: 365 * 86_400_000,
} as const;
export type TimeWindow = keyof typeof WINDOWS | 'all';
