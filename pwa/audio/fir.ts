// Windowed-sinc low-pass design shared by the 3× rate converters and the arbitrary-ratio resampler.

/** Blackman-windowed sinc, unity gain at DC. `cutoff` is a fraction of the sample rate (0..0.5). */
export function lowpassTaps(taps: number, cutoff: number): Float32Array {
  const h = new Float32Array(taps);
  const mid = (taps - 1) / 2;
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const x = i - mid;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (taps - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (taps - 1));
    h[i] = sinc * w;
    sum += h[i]!;
  }
  for (let i = 0; i < taps; i++) h[i]! /= sum;
  return h;
}
