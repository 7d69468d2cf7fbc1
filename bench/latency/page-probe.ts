// Runs inside each benchmark page (added with addInitScript before the app loads, so it must be
// self-contained): receives the app's captured and played PCM with their wall-clock times and
// keeps only a few numbers per frame — tone-burst onsets and a 10 ms envelope — so nothing like
// a recording crosses back to the benchmark.
//
// Onset = first 1 ms block whose RMS exceeds ONSET_LEVEL after at least QUIET_MS below half of
// it (see the arming below), timed at the first sample in the block above the level. The fixture's bursts are 20 ms of
// 1 kHz at 0.8 (RMS 0.57) every 500 ms, so both ends of the call see the same, sharp edges; a codec
// or concealment smears an edge by a millisecond or two at most. RMS rather than peak: Opus-coded
// "silence" carries sparse low-level samples that a peak test took for sound, missing most bursts.
export interface ProbeData {
  captureOnsets: number[];
  playOnsets: number[];
  /** 10 ms RMS envelope of what was played, and the wall-clock time of its first window. */
  playedEnvelope: number[];
  playedStartMs: number;
  /** Frames the playback node rendered (20 ms each). */
  playedFrames: number;
}

export function installLatencyProbe(): void {
  const ONSET_LEVEL = 0.05;
  const QUIET_MS = 150;
  const BLOCK = 48; // 1 ms at 48 kHz
  const ENV = 480; // 10 ms
  const data = { captureOnsets: [], playOnsets: [], playedEnvelope: [], playedStartMs: 0, playedFrames: 0 } as {
    captureOnsets: number[];
    playOnsets: number[];
    playedEnvelope: number[];
    playedStartMs: number;
    playedFrames: number;
  };
  // Armed by QUIET_MS of quiet; a block between the two levels (an edge's ramp, Opus pre-echo)
  // neither fires nor disarms it — requiring quiet right up to the loud block missed about half
  // of the onsets, depending on where an edge fell in the 1 ms grid.
  const detector = (out: number[]) => {
    let quietMs = QUIET_MS;
    let armed = true;
    return (pcm: Float32Array, firstSampleMs: number) => {
      for (let off = 0; off + BLOCK <= pcm.length; off += BLOCK) {
        let sum = 0;
        for (let i = off; i < off + BLOCK; i++) sum += pcm[i]! * pcm[i]!;
        const level = Math.sqrt(sum / BLOCK);
        if (level > ONSET_LEVEL && armed) {
          // Refine to the first sample over the level inside the block.
          let i = off;
          while (i < off + BLOCK && Math.abs(pcm[i]!) <= ONSET_LEVEL) i++;
          out.push(firstSampleMs + (i * 1000) / 48_000);
          armed = false;
        }
        quietMs = level < ONSET_LEVEL / 2 ? quietMs + 1 : 0;
        if (quietMs >= QUIET_MS) armed = true;
      }
    };
  };
  const onCapture = detector(data.captureOnsets);
  const onPlay = detector(data.playOnsets);
  const w = window as unknown as Record<string, unknown>;
  // Captured: `at` is when the frame's LAST sample entered the graph.
  w.__voicesrvCaptureTap = (pcm: Float32Array, at: number) => onCapture(pcm, at - ((pcm.length - 1) * 1000) / 48_000);
  // Played: `at` is when the frame's FIRST sample leaves the playback node.
  w.__voicesrvPcmTap = (pcm: Float32Array, at: number) => {
    if (data.playedFrames === 0) data.playedStartMs = at;
    data.playedFrames++;
    onPlay(pcm, at);
    for (let off = 0; off + ENV <= pcm.length; off += ENV) {
      let sum = 0;
      for (let i = off; i < off + ENV; i++) sum += pcm[i]! * pcm[i]!;
      data.playedEnvelope.push(Math.sqrt(sum / ENV));
    }
  };
  w.__voicesrvProbe = data;
}
