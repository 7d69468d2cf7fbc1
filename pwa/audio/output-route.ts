/**
 * Where call audio comes out: "private" (quiet, held to the ear) or "speaker" (loud).
 *
 * What the web platform actually allows — no web API can force the earpiece:
 * - Android Chrome: audio from a page plays on the loudspeaker (or a headset / Bluetooth device if
 *   connected). `setSinkId` exists but Android exposes no "earpiece" output to the web, and the
 *   enumerated output labels are generic. Private mode is therefore *only* a lower volume (20 %).
 * - iOS Safari (16.4+, and home-screen apps): `navigator.audioSession.type = "play-and-record"`
 *   (Safari 17+) tells iOS this is a two-way call, which enables the voice-processing path; while
 *   the microphone is open iOS often routes to the receiver (earpiece) by itself, but the page cannot
 *   choose or detect this. No `setSinkId`. Private mode = 20 % volume, on whichever route iOS picked.
 * - Desktop Chrome/Edge (110+): `AudioContext.setSinkId` with labelled outputs after mic permission;
 *   we prefer an output whose label suggests a receiver/earpiece/headset in private mode, otherwise
 *   the default. Firefox 116+ has `HTMLMediaElement.setSinkId` but not on AudioContext, so on
 *   Firefox and desktop Safari the system default output is used.
 * - Everywhere: the user's volume multiplies the mode gain (private 0.2, speaker 1.0).
 */

export type OutputMode = "private" | "speaker";

export const MODE_GAIN: Record<OutputMode, number> = { private: 0.2, speaker: 1 };

const EARPIECE_LABEL = /earpiece|receiver|handset|headset|headphone/i;

export function outputGain(mode: OutputMode, volume: number): number {
  const v = Number.isFinite(volume) ? Math.min(1, Math.max(0, volume)) : 1;
  return MODE_GAIN[mode] * v;
}

/** Must run before the microphone is opened and audio starts, or iOS ignores it. */
export function configureAudioSession(): boolean {
  const session = (navigator as { audioSession?: { type: string } }).audioSession;
  if (!session) return false;
  try {
    session.type = "play-and-record";
    return true;
  } catch {
    return false;
  }
}

type SinkContext = AudioContext & { setSinkId?: (id: string) => Promise<void> };

export class OutputRoute {
  private mode: OutputMode;
  private volume: number;
  private sinkApplied: string | null = null;

  constructor(
    private readonly ctx: AudioContext,
    private readonly applyGain: (gain: number) => void,
    mode: OutputMode = "private",
    volume = 1,
  ) {
    this.mode = mode;
    this.volume = volume;
    this.apply();
  }

  get state(): { mode: OutputMode; volume: number; gain: number; sinkId: string | null } {
    return { mode: this.mode, volume: this.volume, gain: outputGain(this.mode, this.volume), sinkId: this.sinkApplied };
  }

  setMode(mode: OutputMode): void {
    this.mode = mode;
    this.apply();
  }

  setVolume(volume: number): void {
    this.volume = volume;
    this.apply();
  }

  private apply(): void {
    this.applyGain(outputGain(this.mode, this.volume));
    void this.routeSink();
  }

  /** Best effort: failures (no permission, unsupported) leave the current output in place. */
  private async routeSink(): Promise<void> {
    const ctx = this.ctx as SinkContext;
    if (typeof ctx.setSinkId !== "function" || !navigator.mediaDevices?.enumerateDevices) return;
    try {
      const outputs = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "audiooutput");
      const earpiece = outputs.find((d) => EARPIECE_LABEL.test(d.label));
      const wanted = this.mode === "private" && earpiece ? earpiece.deviceId : "";
      if (wanted === (this.sinkApplied ?? "")) return;
      await ctx.setSinkId(wanted);
      this.sinkApplied = wanted || null;
    } catch {
      // Keep whatever output is active.
    }
  }
}
