// The client side of one call at a time: ringing, key exchange, audio, endings.
//
// Security rules this file enforces (PROTOCOL.md):
// - "Encrypted" and the safety code appear only after KeyExchange.done resolved, i.e. after the
//   peer's key confirmation verified.
// - The microphone is opened, and the AudioContext prepared, from the user's tap (Call / Accept)
//   because browsers (iOS above all) only grant them there, but not one captured sample is
//   encoded or sent before `done`: sending starts after it.
// - A key-check failure ends the call and shows the security screen; a timeout is reported as
//   the plain failure it most likely is (a bad network), not as an attack.
// - Protocol v2 (IDENTITY.md §5–§6): the exchange binds both codec offers and, in a private
//   group, the group's psk; `done` carries the peer's proven device key. Before any audio is
//   sent, that key is checked against this device's own verified contacts (peer-identity.ts;
//   never anything the server grants): the roster naming a verified contact whose key differs ends the call with
//   the interception warning; a verified key shows "Verified · <name>"; anything else shows the
//   symbols as "not verified yet" (or, for a contact's name with a new key, "new safety key").
import {
  CallWakeLock,
  chooseCodec,
  prepareCallAudio,
  startCallAudio,
  supportedCodecs,
  type CallAudio,
  type CallDetails,
  type CodecName,
  type PreparedCallAudio,
} from "../audio/call-audio.ts";
import { openMic } from "../audio/mic.ts";
import { micAlreadyAllowed } from "../audio/mic-permission.ts";
import { markSetup } from "./setup-marks.ts";
import { decodeKxBody, encodeKxBody, KeyExchange, KeyExchangeError, type CallKeys } from "../e2ee/index.ts";
import type { DeviceSigner } from "../e2ee/identity-binding.ts";
import { PAYLOAD_SLOTS } from "../e2ee/frame-padding.ts";
import type { HostedMedia } from "../link/link-client.ts";
import type { ContactBook } from "./contacts.ts";
import { judgePeer, readPeerRecords } from "./peer-identity.ts";
import { RoundTrip } from "./round-trip.ts";
import type { CallRole, EndReason, ServerMessage } from "../../protocol/messages.ts";
import type { Connection } from "./connection.ts";
import { afterPaint, prefetchSasPictures, preloadSasPictures } from "./call-start.ts";
import { clearCallNotifications, IncomingAlert } from "./ringtone.ts";
import { settings, type AudioMode } from "./settings.ts";

export type CallPhase = "idle" | "outgoing" | "incoming" | "in-call" | "ended" | "security-failure";
export type Quality = "good" | "fair" | "poor";

export interface SasView {
  emoji: string;
  name: string;
}

export interface CallStats {
  framesSent: number;
  framesReceived: number;
  framesDropped: number;
  /** Received before this side's media had the keys (dropped unheard: the peer confirmed first). */
  framesBeforeKeys: number;
  lossPercent: number;
  jitterMs: number;
}

export interface CallView {
  phase: CallPhase;
  peer: string;
  callId: string | null;
  role: CallRole | null;
  /** "calling" until the server confirmed the call exists, then "ringing". */
  outgoing: "calling" | "ringing";
  /** The person's app is closed: the server rings their phone by Web Push. */
  pushed: boolean;
  /** Accept was tapped: the answer is on its way (mic prompt, then waiting for `connected`). */
  answering: boolean;
  connectedAt: number | null;
  encrypted: boolean;
  sas: SasView[] | null;
  sasConfirmed: boolean;
  /** Who the peer's proven device key is to this device (null until the keys are confirmed). */
  verification: "verified" | "unverified" | "key-changed" | null;
  /** The name this device saved for the verified contact. */
  contactName: string | null;
  muted: boolean;
  mode: AudioMode;
  volume: number;
  quality: Quality | null;
  micLevel: number;
  wakeLock: boolean;
  peerAway: boolean;
  /** Set for "ended": one plain sentence. */
  endedText: string;
  /** Set for "security-failure": whether keys failed to verify (nothing was sent) or the people saw different codes. */
  failureKind: "key-check" | "sas" | "peer-sas" | null;
  failureText: string;
  stats: CallStats;
  /** For "Call details"; null until audio runs. */
  details: (CallDetails & { roundTripMs: number | null }) | null;
}

const IDLE: CallView = Object.freeze({
  phase: "idle",
  peer: "",
  callId: null,
  role: null,
  outgoing: "calling",
  pushed: false,
  answering: false,
  connectedAt: null,
  encrypted: false,
  sas: null,
  sasConfirmed: false,
  verification: null,
  contactName: null,
  muted: false,
  mode: "private",
  volume: 0.8,
  quality: null,
  micLevel: 0,
  wakeLock: false,
  peerAway: false,
  endedText: "",
  failureKind: null,
  failureText: "",
  stats: { framesSent: 0, framesReceived: 0, framesDropped: 0, framesBeforeKeys: 0, lossPercent: 0, jitterMs: 0 },
  details: null,
}) as CallView;

const ENDED_TEXT: Record<EndReason, string> = {
  declined: "Declined",
  cancelled: "Call cancelled",
  "no-answer": "No answer",
  busy: "Busy — they're on another call",
  unavailable: "Went offline",
  hangup: "Call ended",
  "peer-gone": "Went offline",
  "server-shutdown": "The server restarted — the call ended",
};

/** Browser tests and the latency benchmark set these (before the app loads) to receive decoded /
 *  captured PCM with its wall-clock time; the app never records audio itself. */
type PcmTap = (pcm: Float32Array, atMs: number) => void;

/** Everything one call holds; created at the user's tap, filled in as the call proceeds. */
interface Session {
  peer: string;
  callId: string | null;
  /** The caller's codec list, known to the callee from `incoming`. */
  callerCodecs: string[] | null;
  /** The codec list this side sent (call or answer): its exact JSON is hashed into T. */
  sentCodecs: string[] | null;
  /** The private group's psk, fetched at the tap so `connected` can start the exchange at once. */
  psk: Uint8Array | null;
  /** The peer's proven device key, once the keys are confirmed. */
  peerDevice: Uint8Array | null;
  /** Every payload of this call travels in a slot of this size (IDENTITY.md §7). */
  slot: number;
  callHandle: number;
  role: CallRole | null;
  kx: KeyExchange | null;
  keys: CallKeys | null;
  audio: CallAudio | null;
  /** The call's frames in the link host: codecs, encryption, socket (link-client.ts). */
  media: HostedMedia | null;
  /** The keys went to `media` (they are handed over once, then unusable here). */
  mediaKeyed: boolean;
  audioStarting: Promise<CallAudio | null> | null;
  /** The AudioContext unlocked in the tap; startCallAudio takes it over. */
  prepared: PreparedCallAudio | null;
  mic: MediaStream | null;
  /** The microphone opening, started at the tap; resolves false if it could not be opened. */
  micOpening: Promise<boolean> | null;
  /** That opening failed: known without awaiting it. */
  micOpenFailed: boolean;
  wake: CallWakeLock;
  lastDropped: number;
  lastOpened: number;
  ended: boolean;
  /** The `call` message went out (caller only). */
  placed: boolean;
  /** Accept was tapped once; a second tap must not start a second mic and audio pipeline. */
  answering: boolean;
  /** The `answer` message went out (callee only). */
  answered: boolean;
  /** Ends an outgoing call whose ending never reached us (a lost `outgoing`, `ended` or error). */
  ringTimer: ReturnType<typeof setTimeout> | null;
  /** Key-exchange bodies that could not be sent while the link was down; resent after resume. */
  kxQueue: string[];
}

/** How long the server keeps a dropped member's call (limits.resumeGraceMs). */
const RESUME_GRACE_MS = 15_000;
/** Past the server's ring timeout its `ended` should have arrived; this covers network delay. */
const RING_TIMEOUT_MARGIN_MS = 5000;

/** What a call needs from the device; tests drive the controller with stand-ins for these. */
const BROWSER_DEVICE = {
  openMic,
  micAlreadyAllowed,
  prepareCallAudio,
  startCallAudio,
  supportedCodecs,
  clearCallNotifications,
  prefetchSasPictures,
  preloadSasPictures,
  afterPaint,
  wakeLock: (): CallWakeLock => new CallWakeLock(),
  incomingAlert: (): IncomingAlert => new IncomingAlert(),
};
export type CallDevice = typeof BROWSER_DEVICE;

/** What makes a call verify itself (IDENTITY.md §5–§6): this device's key, the group's psk, the contacts. */
export interface CallTrust {
  device: DeviceSigner;
  /** The private group's psk (from its secret G); null in an open group. */
  psk(): Promise<Uint8Array | null>;
  contacts: ContactBook;
}

export class CallController {
  view: CallView = { ...IDLE };
  private readonly listeners = new Set<(v: CallView) => void>();
  private readonly alert: IncomingAlert;
  private session: Session | null = null;
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  private roundTrip: RoundTrip | null = null;
  private endedTimer: ReturnType<typeof setTimeout> | null = null;
  private resumeCheck: ReturnType<typeof setTimeout> | null = null;
  /** Known synchronously after startup so a tap handler never has to await it. */
  private myCodecs: string[] = ["pcmu16"];
  private readonly codecsReady: Promise<void>;
  private cancelWhenPlaced: string | null = null;
  /** From the server's welcome; the default is the server's own default. */
  private ringTimeoutMs = 45_000;
  private pushRingTimeoutMs = 45_000;
  /** Runs while a connected call's link is down: past the server's grace the call is gone. */
  private linkLostTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly conn: Connection,
    private readonly trust: CallTrust,
    private readonly device: CallDevice = BROWSER_DEVICE,
  ) {
    this.alert = device.incomingAlert();
    this.codecsReady = device.supportedCodecs().then(
      (c) => void (this.myCodecs = c),
      () => {},
    );
    conn.on("message", (m) => this.onMessage(m));
    conn.on("status", () => this.onLinkStatus());
  }

  subscribe(fn: (v: CallView) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // ---- user actions (called from taps) --------------------------------------------------

  /** The roster's name for a member ID (the ID itself if the roster has none). */
  private nameOf(id: string): string {
    return this.conn.members.get(id)?.name ?? id;
  }

  async call(peer: string): Promise<void> {
    if (this.view.phase !== "idle" && this.view.phase !== "ended") return;
    this.clearEnded();
    const s = settings.value;
    const session = this.newSession(peer);
    markSetup("call-tap");
    this.set({ ...IDLE, phase: "outgoing", peer, outgoing: "calling", mode: s.mode, volume: s.volume });
    // All need the tap: the microphone prompt, the AudioContext (iOS), and (on some browsers) the
    // wake lock. The context is prepared first so iOS's call audio session is set before the mic opens.
    void session.wake.request();
    session.prepared = this.prepareAudio();
    this.device.prefetchSasPictures();
    const micOpening = this.openMic(session);
    // Where no prompt can come, the other phone rings while the microphone opens; elsewhere
    // nobody is rung before this person allowed it.
    const allowed = await this.device.micAlreadyAllowed();
    if (!allowed && !(await micOpening)) return this.micFailed(session, "make");
    await this.codecsReady;
    session.psk = await this.trust.psk().catch(() => null);
    if (this.session !== session) return;
    // Failed while the above were awaited: nobody is rung for nothing.
    if (session.micOpenFailed) return this.micFailed(session, "make");
    session.sentCodecs = this.myCodecs;
    session.placed = this.conn.send({ t: "call", to: peer, codecs: this.myCodecs });
    if (!session.placed) return this.showEnded("You're offline — the call wasn't placed.");
    markSetup("call-sent");
    this.armRingTimer(session, this.ringTimeoutMs);
    if (allowed && !(await micOpening)) this.micFailed(session, "make");
  }

  /** The microphone could not be opened: whatever was placed or answered already is ended. */
  private micFailed(session: Session, what: "make" | "take"): void {
    if (this.session !== session || session.ended) return;
    const { phase } = this.view;
    if (session.callId) {
      // Not `cancel`: the other side may have answered already, and the server refuses to
      // cancel a connected call; a hang-up of a ringing call ends it as cancelled or declined.
      this.conn.send({ t: phase === "incoming" && !session.answered ? "reject" : "hangup", callId: session.callId });
    } else if (phase === "outgoing" && session.placed) {
      // Placed, but the server's callId is still on its way: cancel it when it comes.
      this.cancelWhenPlaced = session.peer;
    }
    this.showEnded(`Microphone blocked — allow it for this site to ${what} calls.`);
  }

  private armRingTimer(session: Session, ringMs: number): void {
    if (session.ringTimer) clearTimeout(session.ringTimer);
    session.ringTimer = setTimeout(() => {
      if (this.session !== session || this.view.phase !== "outgoing") return;
      if (session.callId) {
        // A hang-up, not `cancel`: an answer may have reached the server at the last moment.
        this.conn.send({ t: "hangup", callId: session.callId });
        this.showEnded(ENDED_TEXT["no-answer"]);
      } else {
        this.showEnded("The call couldn't be placed.");
      }
    }, ringMs + RING_TIMEOUT_MARGIN_MS);
  }

  async accept(): Promise<void> {
    const session = this.session;
    if (this.view.phase !== "incoming" || !session?.callId || session.answering) return;
    const callId = session.callId;
    session.answering = true;
    markSetup("accept-tap");
    this.set({ ...this.view, answering: true });
    this.alert.stop();
    void this.device.clearCallNotifications();
    void session.wake.request();
    session.prepared = this.prepareAudio();
    const micOpening = this.openMic(session);
    // Where no prompt can come, the answer (and with it the key exchange) goes out while the
    // microphone opens instead of after: that time is no longer between Accept and the first
    // words. Elsewhere a "Block" must reach the caller as a refusal, not as a hang-up.
    const [allowed, psk] = await Promise.all([this.device.micAlreadyAllowed(), this.trust.psk().catch(() => null)]);
    session.psk = psk;
    if (this.session !== session || this.view.phase !== "incoming") return;
    if (!allowed && !(await micOpening)) return this.micFailed(session, "take");
    if (this.session !== session || this.view.phase !== "incoming") return;
    // Failed while the above were awaited: a refusal, not an answer and then a hang-up.
    if (session.micOpenFailed) return this.micFailed(session, "take");
    // The callee already knows both codec lists, so its audio starts here — with sending off
    // until the keys are confirmed (startAudio waits for the microphone).
    const codec = chooseCodec(session.callerCodecs ?? [], this.myCodecs);
    session.audioStarting = this.startAudio(session, codec, false);
    // Unsent, the call would sit on "Incoming call" with the mic open; the server ends it anyway.
    session.sentCodecs = this.myCodecs;
    if (!this.conn.send({ t: "answer", callId, codecs: this.myCodecs })) return this.showEnded("You're offline — the call couldn't be answered.");
    session.answered = true;
    markSetup("answer-sent");
    if (allowed && !(await micOpening)) this.micFailed(session, "take");
  }

  decline(): void {
    if (this.view.phase !== "incoming" || !this.view.callId) return;
    this.conn.send({ t: "reject", callId: this.view.callId });
    this.teardown();
    this.set({ ...IDLE });
  }

  /** Cancel while ringing, or hang up a connected call. */
  hangup(): void {
    const callId = this.view.callId;
    // A hang-up while ringing too: the server ends a ringing call as cancelled, and it also ends
    // one the other side answered a moment ago (which a `cancel` could not).
    if (callId) this.conn.send({ t: "hangup", callId });
    // Cancelled before the server even answered with the callId: cancel it when it does, or the
    // other person's phone would ring for nothing.
    else if (this.view.phase === "outgoing" && this.session?.placed) this.cancelWhenPlaced = this.view.peer;
    this.teardown();
    this.set({ ...IDLE });
  }

  /** "They match" makes the peer a verified contact on this device; "They don't match" ends the call and tells the other side. */
  sasVerdict(match: boolean): void {
    if (this.view.phase !== "in-call" || !this.view.encrypted) return;
    const session = this.session;
    if (match) {
      const name = this.nameOf(this.view.peer);
      if (session?.peerDevice) void this.trust.contacts.verify(session.peerDevice, name).catch(() => {});
      return this.set({ ...this.view, sasConfirmed: true, verification: "verified", contactName: name });
    }
    const callId = this.view.callId;
    if (callId && session) this.sendKx(session, encodeKxBody({ k: "mismatch", callId, r: new Uint8Array([1]) }));
    if (this.view.callId) this.conn.send({ t: "hangup", callId: this.view.callId });
    this.securityFailure("sas", "The safety codes didn't match — someone may be listening in.");
  }

  setMuted(muted: boolean): void {
    this.session?.audio?.setMuted(muted);
    this.set({ ...this.view, muted, micLevel: muted ? 0 : this.view.micLevel });
  }

  setMode(mode: AudioMode): void {
    this.session?.audio?.setMode(mode);
    this.set({ ...this.view, mode });
  }

  setVolume(volume: number): void {
    this.session?.audio?.setVolume(volume);
    this.set({ ...this.view, volume });
  }

  /** Leaves the "ended" or "security failure" screen. */
  dismiss(): void {
    if (this.view.phase === "ended" || this.view.phase === "security-failure") {
      this.clearEnded();
      this.set({ ...IDLE });
    }
  }

  // ---- server messages -------------------------------------------------------------------

  private onMessage(m: ServerMessage): void {
    switch (m.t) {
      case "welcome":
        this.ringTimeoutMs = m.limits?.ringTimeoutMs ?? this.ringTimeoutMs;
        this.pushRingTimeoutMs = m.limits?.pushRingTimeoutMs ?? this.pushRingTimeoutMs;
        return this.onWelcome(m.resumed);
      case "outgoing":
        if (this.cancelWhenPlaced === m.to && this.session?.peer !== m.to) {
          this.cancelWhenPlaced = null;
          this.conn.send({ t: "hangup", callId: m.callId });
          return;
        }
        if (this.view.phase !== "outgoing" || !this.session || this.view.peer !== m.to) return;
        const repeated = this.session.callId === m.callId;
        if (!this.session.callId) this.session.callId = m.callId;
        if (this.session.callId !== m.callId) return;
        // A pushed ring lasts longer (and may start later, when the callee's app went away); a
        // repeat without `pushed` means the callee's app opened and the ring restarts there.
        if (m.pushed) this.armRingTimer(this.session, this.pushRingTimeoutMs);
        else if (repeated) this.armRingTimer(this.session, this.ringTimeoutMs);
        this.set({ ...this.view, callId: m.callId, outgoing: "ringing", pushed: m.pushed === true });
        return;
      case "incoming":
        return this.onIncoming(m.callId, m.from, m.codecs);
      case "connected":
        return void this.onConnected(m);
      case "kx":
        if (!this.session?.kx || m.callId !== this.session.callId) return;
        if (this.view.encrypted && decodeKxBody(m.body)?.k === "mismatch") return this.onPeerMismatch();
        this.session.kx.receive(m.body);
        return;
      case "ended":
        return this.onEnded(m.callId, m.reason, m.by);
      case "peer-away":
        if (m.callId === this.view.callId) this.set({ ...this.view, peerAway: true });
        return;
      case "peer-back":
        if (m.callId === this.view.callId) this.set({ ...this.view, peerAway: false });
        return;
      case "bye":
        // The server is restarting: calls do not survive it, and saying so beats a vague drop.
        if (this.view.phase === "in-call" || this.view.phase === "outgoing" || this.view.phase === "incoming") this.showEnded(ENDED_TEXT["server-shutdown"]);
        return;
      case "error":
        if (m.ref === "call" && this.view.phase === "outgoing" && !this.view.callId)
          this.showEnded(m.code === "already-in-call" ? "Finish your current call first." : "The call couldn't be placed.");
        return;
    }
  }

  private onWelcome(resumed: boolean): void {
    const { phase } = this.view;
    if (phase === "in-call" && resumed) {
      // The server repeats `connected` right after a resumed welcome if it still holds the call.
      if (this.resumeCheck) clearTimeout(this.resumeCheck);
      this.resumeCheck = setTimeout(() => {
        this.resumeCheck = null;
        if (this.view.phase === "in-call") this.showEnded("The connection dropped for too long — the call ended.");
      }, 2000);
      return;
    }
    if (phase === "in-call") return this.showEnded("The connection dropped for too long — the call ended.");
    // A ringing call does not survive a dropped connection (the server ends it).
    if (phase === "incoming") return this.showEnded(`Missed call from ${this.nameOf(this.view.peer)} — the connection dropped.`);
    // Placed but the `outgoing` was lost with the old link: the server ended that call too.
    if (phase === "outgoing" && (this.view.callId || this.session?.placed)) return this.showEnded("The connection dropped — the call wasn't placed.");
  }

  private onIncoming(callId: string, from: string, codecs: string[]): void {
    if (this.view.phase !== "idle" && this.view.phase !== "ended") {
      // Unanswered, the server would count us as ringing (and busy to others) until its ring timeout.
      if (callId !== this.session?.callId) this.conn.send({ t: "reject", callId });
      return;
    }
    this.clearEnded();
    const s = settings.value;
    const session = this.newSession(from);
    markSetup("ringing");
    session.callId = callId;
    session.callerCodecs = codecs;
    this.set({ ...IDLE, phase: "incoming", peer: from, callId, mode: s.mode, volume: s.volume });
    this.alert.start({ ringtone: s.ringtone, vibration: s.vibration, caller: from });
    this.device.prefetchSasPictures();
  }

  private async onConnected(m: Extract<ServerMessage, { t: "connected" }>): Promise<void> {
    const session = this.session;
    if (session?.kx && session.callId === m.callId) {
      // Resumed after our own reconnect: the call and its keys are still ours.
      if (this.resumeCheck) clearTimeout(this.resumeCheck);
      this.resumeCheck = null;
      for (const body of session.kxQueue.splice(0)) this.sendKx(session, body);
      return this.emit();
    }
    if (!session || session.callId !== m.callId || (this.view.phase !== "outgoing" && this.view.phase !== "incoming")) {
      // A call we hold no keys for (e.g. this page was reloaded mid-call): it cannot be
      // continued securely, so end it instead of leaving the other person waiting.
      this.conn.send({ t: "hangup", callId: m.callId });
      return;
    }
    markSetup("connected");
    this.alert.stop();
    if (session.ringTimer) clearTimeout(session.ringTimer);
    session.ringTimer = null;
    const callId = m.callId;
    session.callHandle = m.callHandle;
    session.role = m.role;
    // The exact offers each side sent, as JSON (the server relays the lists verbatim).
    const mine = new TextEncoder().encode(JSON.stringify(session.sentCodecs ?? this.myCodecs));
    const theirs = new TextEncoder().encode(JSON.stringify(m.peerCodecs));
    const [offerI, offerR] = m.role === "initiator" ? [mine, theirs] : [theirs, mine];
    session.kx = new KeyExchange({
      callId,
      role: m.role,
      send: (body) => this.sendKx(session, body),
      v2: { offerI, offerR, psk: session.psk, device: this.trust.device },
    });
    this.set({ ...this.view, phase: "in-call", peer: m.peer, role: m.role, connectedAt: Date.now(), encrypted: false, wakeLock: session.wake.state.active });
    // A failed start also rejects `done`, which is where it is handled.
    session.kx.start().catch(() => {});
    // This device's records of the peer, read while the keys are exchanged (peer-identity.ts).
    const records = readPeerRecords(this.conn.members.get(m.peer), this.trust.contacts);
    records.catch(() => {}); // awaited after `done`; a call that ends before must not leave it unhandled
    // The caller's audio starts now too, with sending off (the callee's started at Accept): both
    // codec lists are known, and building the graph while the keys are exchanged keeps that work
    // out of the moment the first frames go out (call-start.ts).
    if (!session.audioStarting) {
      const [initiatorCodecs, responderCodecs] = m.role === "initiator" ? [this.myCodecs, m.peerCodecs] : [m.peerCodecs, this.myCodecs];
      session.audioStarting = this.startAudio(session, chooseCodec(initiatorCodecs, responderCodecs), false);
    }
    let keys: CallKeys;
    try {
      keys = await session.kx.done;
    } catch (e) {
      if (this.session !== session) return;
      const reason = e instanceof KeyExchangeError ? e.reason : "aborted";
      this.conn.send({ t: "hangup", callId });
      // Our own teardown also aborts, but it has already replaced the session; this abort is
      // a local failure (WebCrypto, a throwing send) that would otherwise leave "Securing…" up.
      if (reason === "aborted") return this.showEnded("Couldn't secure the call — the call ended.");
      if (reason === "timeout") return this.showEnded("Couldn't secure the call in time — check your connection and try again.");
      return this.securityFailure("key-check", "Key check failed — the connection may be intercepted.");
    }
    if (this.session !== session) return keys.destroy();
    markSetup("keys-agreed");
    // The safety-code pictures load meanwhile, so the secured screen shows them at once (call-start.ts).
    const pictures = this.device.preloadSasPictures();
    // Who is on the other end, by this device's own records — before a single frame is sent.
    let who: Awaited<ReturnType<typeof judgePeer>>;
    try {
      who = await judgePeer(this.conn.members.get(m.peer), keys.peerDevice!, this.trust.contacts, records);
    } catch {
      // This device's records could not be read (storage failing): without them nobody can
      // tell a verified phone from an impostor, so the call does not go on unchecked.
      keys.destroy();
      if (this.session !== session) return;
      this.conn.send({ t: "hangup", callId });
      return this.showEnded("Couldn't check who answered on this device — the call ended.");
    }
    if (this.session !== session) return keys.destroy();
    if (who.verification === "intercepted") {
      keys.destroy();
      this.conn.send({ t: "hangup", callId });
      return this.securityFailure("key-check", "This isn't the phone you verified for this person — the connection may be intercepted.");
    }
    markSetup("keys-confirmed");
    session.keys = keys;
    session.peerDevice = keys.peerDevice;
    // Now, not after the pictures or the secured screen's rendering: the peer may be sending
    // already (whoever confirms first starts first), and until its media has the keys this side
    // drops every frame — the first words said.
    this.keyMedia(session);
    // In the link worker a frame never waits for this page's main thread, so the secured
    // screen's rendering cannot hold one up: sending starts with the keys, and the first words
    // said go out. Where the link runs in the page, frames captured while that screen renders
    // would go out late and in a bunch, so there sending waits for its paint (call-start.ts).
    const sendNow = this.conn.link.host() === "worker";
    if (sendNow) void this.startSending(session, false);
    await pictures;
    if (this.session !== session) return;
    this.set({
      ...this.view,
      encrypted: true,
      sas: keys.sas.symbols.map((s) => ({ emoji: s.emoji, name: s.name })),
      verification: who.verification,
      contactName: who.contactName,
      sasConfirmed: who.verification === "verified",
    });
    if (!sendNow) await this.startSending(session, true);
  }

  /** Turns sending on once the call's audio runs (and, `afterPaint`, the secured screen is painted). */
  private async startSending(session: Session, afterPaint: boolean): Promise<void> {
    const audio = await session.audioStarting;
    if (this.session !== session || !audio) return;
    if (afterPaint) {
      await this.device.afterPaint();
      if (this.session !== session) return;
    }
    audio.setSending(true);
    markSetup("sending");
    this.startStats(session);
  }

  /** Resolves null (and ends the call) when this device cannot run call audio. */
  private async startAudio(session: Session, codec: CodecName, sending: boolean): Promise<CallAudio | null> {
    const { __voicesrvPcmTap: tap, __voicesrvCaptureTap: captureTap } = globalThis as { __voicesrvPcmTap?: PcmTap; __voicesrvCaptureTap?: PcmTap };
    session.slot = PAYLOAD_SLOTS[codec];
    // Never a second microphone: the one opened at the tap may still be opening (the call was
    // answered or placed meanwhile); if it fails, micFailed() ends the call.
    if (!(await (session.micOpening ?? Promise.resolve(true))) || this.session !== session) return null;
    try {
      const audio = await this.device.startCallAudio({
        codec,
        sending,
        ...(session.prepared ? { prepared: session.prepared } : {}),
        ...(session.mic ? { micStream: session.mic } : {}),
        remote: this.conn.link.startMedia((media) => {
          if (this.session !== session) return;
          session.media = media;
          media.onLost = () => this.mediaLost(session);
          this.keyMedia(session);
        }),
        mode: this.view.mode,
        volume: this.view.volume,
        workletBase: "/audio/",
        ...(typeof tap === "function" ? { onDecodedPcm: tap } : {}),
        ...(typeof captureTap === "function" ? { onCapturedPcm: captureTap } : {}),
      });
      if (this.session !== session) {
        void audio.stop();
        return null;
      }
      session.audio = audio;
      markSetup("audio-ready");
      audio.setMuted(this.view.muted);
      return audio;
    } catch {
      if (this.session !== session) return null;
      if (session.callId) this.conn.send({ t: "hangup", callId: session.callId });
      this.showEnded("Couldn't start audio on this device — the call ended.");
      return null;
    }
  }

  /** Hands the confirmed keys to the call's media session, once both exist (whichever is later). */
  private keyMedia(session: Session): void {
    if (session.mediaKeyed || !session.media || !session.keys || session.ended) return;
    session.mediaKeyed = true;
    session.media.setKeys(session.keys.handOff(), session.callHandle, session.slot);
  }

  /** The call's media stopped under it (its link worker ended with the page, or failed): a call
   *  without sound must not look connected. */
  private mediaLost(session: Session): void {
    if (this.session !== session || session.ended) return;
    if (session.callId) this.conn.send({ t: "hangup", callId: session.callId });
    this.showEnded("The call's sound stopped on this device — the call ended.");
  }

  /** The other person tapped "They don't match": the symbols differed on the two phones. */
  private onPeerMismatch(): void {
    this.securityFailure("peer-sas", `${this.nameOf(this.view.peer)} saw different safety symbols and ended the call — someone may be listening in.`);
  }

  /** Ends the call on the security screen: nothing more is sent, the keys are dropped. */
  private securityFailure(kind: NonNullable<CallView["failureKind"]>, text: string): void {
    const peer = this.view.peer;
    this.teardown();
    this.set({ ...IDLE, phase: "security-failure", peer, failureKind: kind, failureText: text });
  }

  private onEnded(callId: string, reason: EndReason, by?: string): void {
    if (!this.session || callId !== this.session.callId) return;
    const { phase, peer } = this.view;
    this.teardown();
    // Before the keys were confirmed, a hang-up is also how the other side reports a failed key
    // check, so it keeps the setup wording; a vanished peer or a restart is not a setup failure.
    if (phase === "in-call" && !this.view.encrypted && reason === "hangup") {
      return this.showEnded("Couldn't secure the call — it ended before the keys were confirmed.");
    }
    if (phase === "in-call") {
      const text = reason === "hangup" && by && by !== this.conn.me ? `${this.nameOf(by)} hung up` : ENDED_TEXT[reason];
      return this.showEnded(text, 2500);
    }
    if (phase === "incoming") return this.showEnded(reason === "cancelled" || reason === "no-answer" || reason === "peer-gone" ? `Missed call from ${this.nameOf(peer)}` : ENDED_TEXT[reason]);
    this.showEnded(ENDED_TEXT[reason]);
  }

  private onLinkStatus(): void {
    // Presence changes are rendered by the group screen; here only a lost link matters.
    const { phase } = this.view;
    const online = this.conn.status === "online";
    if (online && this.linkLostTimer) {
      clearTimeout(this.linkLostTimer);
      this.linkLostTimer = null;
    }
    if (online) {
      if (phase === "in-call") this.emit();
      return;
    }
    // The server ends a ringing call when either side's link drops; ringing on would be a lie.
    if (phase === "incoming") return this.showEnded(`Missed call from ${this.nameOf(this.view.peer)} — the connection dropped.`);
    if (phase === "outgoing" && (this.view.callId || this.session?.placed)) return this.showEnded("The connection dropped — the call wasn't placed.");
    if (phase !== "in-call") return;
    // A connected call survives a drop only within the server's grace; past it the overlay,
    // mic, audio and wake lock would otherwise stay forever. "offline" waits the same grace:
    // browsers report it for a moment during every Wi-Fi/mobile hand-over.
    this.linkLostTimer ??= setTimeout(() => {
      this.linkLostTimer = null;
      if (this.view.phase === "in-call") this.showEnded("The connection dropped for too long — the call ended.");
    }, RESUME_GRACE_MS);
    this.emit();
  }

  // ---- helpers -------------------------------------------------------------------------------

  private newSession(peer: string): Session {
    this.teardown();
    const wake = this.device.wakeLock();
    const session: Session = {
      peer,
      callId: null,
      callerCodecs: null,
      sentCodecs: null,
      psk: null,
      peerDevice: null,
      slot: PAYLOAD_SLOTS.pcmu16,
      callHandle: 0,
      role: null,
      kx: null,
      keys: null,
      audio: null,
      audioStarting: null,
      prepared: null,
      mic: null,
      micOpening: null,
      micOpenFailed: false,
      wake,
      media: null,
      mediaKeyed: false,
      lastDropped: 0,
      lastOpened: 0,
      ended: false,
      placed: false,
      answering: false,
      answered: false,
      ringTimer: null,
      kxQueue: [],
    };
    wake.subscribe((st) => {
      if (this.session === session && this.view.wakeLock !== st.active) this.set({ ...this.view, wakeLock: st.active });
    });
    this.session = session;
    return session;
  }

  /** Held back while the link is down: a lost kx message would stall the exchange until its timeout. */
  private sendKx(session: Session, body: string): void {
    if (session.ended || !session.callId) return;
    if (!this.conn.send({ t: "kx", callId: session.callId, body })) session.kxQueue.push(body);
  }

  /** Null where no AudioContext can be made; startCallAudio then reports the failure in the usual way. */
  private prepareAudio(): PreparedCallAudio | null {
    try {
      return this.device.prepareCallAudio({ workletBase: "/audio/" });
    } catch {
      return null;
    }
  }

  /** Opens the microphone once per call: a second caller of this gets the same opening. */
  private openMic(session: Session): Promise<boolean> {
    return (session.micOpening ??= this.openMicOnce(session).then((ok) => ((session.micOpenFailed = !ok), ok)));
  }

  private async openMicOnce(session: Session): Promise<boolean> {
    try {
      const mic = await this.device.openMic();
      if (this.session !== session) {
        for (const t of mic.getTracks()) t.stop();
        return false;
      }
      session.mic = mic;
      markSetup("mic-open");
      return true;
    } catch {
      return false;
    }
  }

  private startStats(session: Session): void {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.roundTrip?.stop();
    const roundTrip = (this.roundTrip = new RoundTrip(this.conn));
    this.statsTimer = setInterval(() => {
      roundTrip.tick();
      const { audio, keys, media } = session;
      if (this.session !== session || !audio || !keys) return;
      const a = audio.stats();
      const { opened, dropped, sent, beforeKeys } = media?.stats() ?? { opened: 0, dropped: 0, sent: 0, beforeKeys: 0 };
      const newDrops = dropped - session.lastDropped;
      const newFrames = opened - session.lastOpened + newDrops;
      session.lastDropped = dropped;
      session.lastOpened = opened;
      const dropPct = newFrames > 0 ? (100 * newDrops) / newFrames : 0;
      const fromDrops: Quality = dropPct > 5 ? "poor" : dropPct > 1 ? "fair" : "good";
      const rank = { good: 0, fair: 1, poor: 2 } as const;
      const quality = rank[fromDrops] > rank[a.quality] ? fromDrops : a.quality;
      this.set({
        ...this.view,
        quality,
        micLevel: audio.micLevel(),
        stats: { framesSent: sent, framesReceived: opened, framesDropped: dropped, framesBeforeKeys: beforeKeys, lossPercent: a.lossPercent, jitterMs: a.jitterMs },
        details: { ...audio.details(), roundTripMs: roundTrip.ms },
      });
    }, 250);
  }

  private showEnded(text: string, autoCloseMs = 4000): void {
    const peer = this.view.peer;
    this.teardown();
    this.set({ ...IDLE, phase: "ended", peer, endedText: text });
    this.endedTimer = setTimeout(() => this.dismiss(), autoCloseMs);
  }

  private clearEnded(): void {
    if (this.endedTimer) clearTimeout(this.endedTimer);
    this.endedTimer = null;
  }

  /** Stops everything a call holds: ring, audio, keys, microphone, wake lock. */
  private teardown(): void {
    this.alert.stop();
    void this.device.clearCallNotifications();
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.roundTrip?.stop();
    this.roundTrip = null;
    if (this.resumeCheck) clearTimeout(this.resumeCheck);
    this.resumeCheck = null;
    if (this.linkLostTimer) clearTimeout(this.linkLostTimer);
    this.linkLostTimer = null;
    const s = this.session;
    this.session = null;
    if (!s) return;
    s.ended = true;
    if (s.ringTimer) clearTimeout(s.ringTimer);
    s.ringTimer = null;
    s.kxQueue = [];
    if (s.audio) void s.audio.stop();
    else void s.audioStarting?.then((a) => a?.stop());
    void s.prepared?.close();
    s.kx?.abort();
    s.keys?.destroy();
    s.keys = null;
    for (const t of s.mic?.getTracks() ?? []) t.stop();
    s.mic = null;
    void s.wake.release();
  }

  private set(v: CallView): void {
    this.view = v;
    this.emit();
  }

  private emit(): void {
    for (const fn of this.listeners) fn(this.view);
  }
}
