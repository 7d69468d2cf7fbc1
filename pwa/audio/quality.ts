// The in-call "connection quality" indicator. Thresholds follow common VoIP practice
// (e.g. ITU-T G.114/G.1020-style rules of thumb): < 2 % loss with < 30 ms jitter is
// unnoticeable with concealment; > 8 % loss or > 80 ms jitter is clearly audible.
export type Quality = "good" | "fair" | "poor";

export function callQuality(lossPercent: number, jitterMs: number): Quality {
  if (lossPercent > 8 || jitterMs > 80) return "poor";
  if (lossPercent > 2 || jitterMs > 30) return "fair";
  return "good";
}
