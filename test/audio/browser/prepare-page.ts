// Browser side of test/browser/audio-prepare.test.ts: the iOS-shaped call start. The context is
// prepared in a click; the call starts seconds later, after the click's activation has expired.
// Chromium would start a context outside a gesture anyway, so the page records, for every
// AudioContext constructed and every resume(), whether a user activation was active then: iOS
// would refuse exactly the ones made outside it.
import { prepareCallAudio, startCallAudio, type CodecName, type PreparedCallAudio } from "../../../pwa/audio/call-audio.ts";
import { toBase64Int16 } from "./pcm-transfer.ts";

interface ContextEvent {
  what: "new" | "resume";
  id: number;
  inGesture: boolean;
}

const events: ContextEvent[] = [];
const inGesture = () => (navigator as Navigator & { userActivation: { isActive: boolean } }).userActivation.isActive;
const Native = globalThis.AudioContext;
let nextId = 0;
class RecordingAudioContext extends Native {
  readonly id = nextId++;
  constructor(options?: AudioContextOptions) {
    super(options);
    events.push({ what: "new", id: this.id, inGesture: inGesture() });
  }
  override resume(): Promise<void> {
    events.push({ what: "resume", id: this.id, inGesture: inGesture() });
    return super.resume();
  }
}
globalThis.AudioContext = RecordingAudioContext;

let prepared: PreparedCallAudio | null = null;
let stateAtTap = "";
const button = document.createElement("button");
button.id = "call";
button.textContent = "Call";
// Synchronous on purpose, like the app's tap handler up to its first await.
button.addEventListener("click", () => {
  prepared = prepareCallAudio();
  stateAtTap = prepared.context.state;
});
document.body.append(button);


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (outside any gesture) until the click's activation expired, then runs a loopback call on the prepared context. */
async function startLater(codec: CodecName, durationMs: number) {
  if (!prepared) throw new Error("not prepared");
  const waitStart = performance.now();
  while (inGesture()) await sleep(100);
  const activationExpiredAfterMs = performance.now() - waitStart;
  const played: Float32Array[] = [];
  const captured: Float32Array[] = [];
  let seq = 0;
  let audio: Awaited<ReturnType<typeof startCallAudio>> | null = null;
  const startedInGesture = inGesture();
  audio = await startCallAudio({
    prepared,
    codec,
    mode: "speaker",
    onDecodedPcm: (pcm) => played.push(pcm),
    onCapturedPcm: (pcm) => captured.push(pcm),
    sendPayload: (p) => {
      const s = seq++;
      const copy = p.slice();
      setTimeout(() => audio?.receive(s, copy), 5);
    },
  });
  const stateWhileRunning = prepared.context.state;
  await sleep(durationMs);
  const stats = audio.detailedStats();
  await audio.stop();
  return {
    stateAtTap,
    stateWhileRunning,
    stateAfterStop: prepared.context.state,
    startedInGesture,
    activationExpiredAfterMs,
    events,
    sampleRate: stats.sampleRate,
    sent: seq,
    pcm: toBase64Int16(played),
    captured: toBase64Int16(captured),
  };
}

Object.assign(globalThis, { startLater });
(globalThis as { prepareReady?: boolean }).prepareReady = true;
