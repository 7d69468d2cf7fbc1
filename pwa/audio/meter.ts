// Mic level for the UI meter: RMS mapped on a 60 dB scale, because loudness is perceived
// logarithmically — a linear RMS meter would barely move for normal speech (-30..-15 dBFS).
export const METER_FLOOR_DB = -60;

export function rmsToMeter(rms: number): number {
  if (!(rms > 0)) return 0;
  const db = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (db - METER_FLOOR_DB) / -METER_FLOOR_DB));
}
