// Stand-ins for what a headless test cannot provide (microphone, AudioContext, wake lock,
// ringtone) and for the server link, so the REAL CallController and KeyExchange can be driven
// through races a browser cannot produce on demand: new CallController(conn, fakeTrust(), fakeDevice).
// (vi.mock does not reach modules loaded under `bun --bun vitest`, hence the device object.)
import { p256 } from "@noble/curves/p256";
import { sha256 } from "@noble/hashes/sha2";

export const rec = {
  ctxCreated: 0,
  ctxClosed: 0,
  micOpened: 0,
  micStopped: 0,
  audioStarted: 0,
  audioStopped: 0,
  wakeHeld: 0,
  ringing: false,
  micDelayMs: 0,
  /** What the permission query says: already allowed (no prompt can come), or not. */
  micAllowed: false,
  /** When set, opening the microphone waits for it; `micFails` then makes it throw (blocked, busy). */
  micGate: null as Promise<void> | null,
  micFails: false,
  /** `sending` of each startCallAudio, and each setSending(true), in order. */
  sendingLog: [] as string[],
  /** When set, afterPaint() waits for it (the secured screen "painting"). */
  paintGate: null as Promise<void> | null,
  /** When set, preloadSasPictures() waits for it (the safety-code pictures loading). */
  picturesGate: null as Promise<void> | null,
  /** What the calls' media sessions were told: "keys" when they got the media keys. */
  mediaLog: [] as string[],
  /** Every read of the contacts, in order; `contactsGate` holds them (a slow storage). */
  contactReads: [] as string[],
  contactsGate: null as Promise<void> | null,
};

export function resetRec(): void {
  Object.assign(rec, { ctxCreated: 0, ctxClosed: 0, micOpened: 0, micStopped: 0, audioStarted: 0, audioStopped: 0, wakeHeld: 0, ringing: false, micDelayMs: 0, micAllowed: false, micGate: null, micFails: false, sendingLog: [], paintGate: null, picturesGate: null, mediaLog: [], contactReads: [], contactsGate: null });
}

/** Nothing of a call may be left running: mic tracks, AudioContexts, audio pipelines, wake locks. */
export function leftRunning(): { mic: number; ctx: number; audio: number; wake: number } {
  return { mic: rec.micOpened - rec.micStopped, ctx: rec.ctxCreated - rec.ctxClosed, audio: rec.audioStarted - rec.audioStopped, wake: rec.wakeHeld };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const fakeMic = {
  openMic: async () => {
    await sleep(rec.micDelayMs);
    await rec.micGate;
    if (rec.micFails) throw new DOMException("Permission denied", "NotAllowedError");
    rec.micOpened++;
    const track = {
      readyState: "live",
      stop() {
        if (this.readyState === "live") rec.micStopped++;
        this.readyState = "ended";
      },
    };
    return { getAudioTracks: () => [track], getTracks: () => [track] };
  },
};

const fakeCallAudio = {
  CallWakeLock: class {
    active = false;
    private readonly ls = new Set<(s: { supported: boolean; active: boolean }) => void>();
    get state() {
      return { supported: true, active: this.active };
    }
    subscribe(l: (s: { supported: boolean; active: boolean }) => void) {
      this.ls.add(l);
      return () => this.ls.delete(l);
    }
    async request() {
      if (!this.active) rec.wakeHeld++;
      this.active = true;
      return this.state;
    }
    async release() {
      if (this.active) rec.wakeHeld--;
      this.active = false;
    }
  },
  chooseCodec: () => "pcmu16",
  supportedCodecs: async () => ["pcmu16"],
  prepareCallAudio: () => {
    rec.ctxCreated++;
    let closed = false;
    return {
      context: {
        get state() {
          return closed ? "closed" : "running";
        },
      },
      workletBase: "/audio/",
      ready: Promise.resolve(),
      async close() {
        if (!closed) rec.ctxClosed++;
        closed = true;
      },
    };
  },
  startCallAudio: async (o: {
    prepared?: { context: { state: string }; close(): Promise<void> };
    sending?: boolean;
    codec?: string;
    remote?: (ports: never, setup: { codec: string; paths: null; sending: boolean }) => Promise<unknown>;
  }) => {
    await sleep(5);
    if (o.prepared?.context.state === "closed") throw new Error("AudioContext closed");
    // The media session in the link host, as startCallAudio starts it (FakeConn.link).
    await o.remote?.({} as never, { codec: o.codec ?? "opus", paths: null, sending: o.sending ?? true });
    rec.audioStarted++;
    rec.sendingLog.push(`start sending=${o.sending ?? true}`);
    let stopped = false;
    return {
      receive() {},
      setMuted() {},
      setMode() {},
      setVolume() {},
      setSending(on: boolean) {
        rec.sendingLog.push(`setSending(${on})`);
      },
      micLevel: () => 0,
      stats: () => ({ lossPercent: 0, jitterMs: 0, quality: "good" }),
      details: () => ({ codec: "opus", codecPath: "", sendKbps: 0, jitterMs: 0, targetDelayMs: 20, playoutDelayMs: 0, stallCoverMs: 0, outputLatencyMs: 0, outputUnderruns: null, lossPercent: 0, concealedPercent: 0, stalls: 0, catchUpDropped: 0, staleDropped: 0, codecRestarts: 0 }),
      async stop() {
        if (!stopped) rec.audioStopped++;
        stopped = true;
        await o.prepared?.close();
      },
    };
  },
};

const fakeRingtone = {
  IncomingAlert: class {
    start() {
      rec.ringing = true;
    }
    stop() {
      rec.ringing = false;
    }
  },
  clearCallNotifications: async () => {},
};

/** What the controller would otherwise take from the browser (CallDevice). */
export const fakeDevice = {
  openMic: fakeMic.openMic,
  micAlreadyAllowed: async () => rec.micAllowed,
  prepareCallAudio: fakeCallAudio.prepareCallAudio,
  startCallAudio: fakeCallAudio.startCallAudio,
  supportedCodecs: fakeCallAudio.supportedCodecs,
  clearCallNotifications: fakeRingtone.clearCallNotifications,
  prefetchSasPictures: () => {},
  preloadSasPictures: () => rec.picturesGate ?? Promise.resolve(),
  afterPaint: () => rec.paintGate ?? Promise.resolve(),
  wakeLock: () => new fakeCallAudio.CallWakeLock(),
  incomingAlert: () => new fakeRingtone.IncomingAlert(),
};

type Msg = { t: string; [k: string]: unknown };

/** The controller's view of the link: what it sent, and a switch for the link's status. */
export class FakeConn {
  status = "online";
  out: Msg[] = [];
  /** The roster, as the real Connection keeps it (the controller names people from it). */
  members = new Map<string, { id: string; name: string; d?: string }>();
  /** This side's media was given keys. */
  mediaKeyed = false;
  /** Where the link host runs: in the page (frames share its main thread) or the link worker. */
  linkHost: "page" | "worker" = "page";
  /** Makes sending a kx message throw, as any failure inside the key exchange's send would. */
  throwOnKx = false;
  /** The other person's link: kx messages sent here arrive there (as the server relays them). */
  peer: FakeConn | null = null;
  private readonly ls: Record<string, Set<(x?: unknown) => void>> = { message: new Set(), status: new Set() };

  constructor(readonly me: string) {}

  on(e: string, fn: (x?: unknown) => void) {
    this.ls[e]!.add(fn);
    return () => this.ls[e]!.delete(fn);
  }

  send(m: Msg): boolean {
    if (this.status !== "online") return false;
    if (m.t === "kx" && this.throwOnKx) throw new Error("send failed");
    this.out.push(m);
    const peer = this.peer;
    if (m.t === "kx" && peer) setTimeout(() => peer.deliver({ t: "kx", callId: m.callId, body: m.body }), 1);
    return true;
  }

  /** The link host's media sessions, as the controller sees them (HostedMedia): they record
   *  when they get the keys. */
  readonly link = {
    startMedia: (onStarted: (media: unknown) => void) => async () => {
      const media = {
        onLost: null as ((why: string) => void) | null,
        setKeys: () => {
          rec.mediaLog.push("keys");
          this.mediaKeyed = true;
        },
        setSending() {},
        setMuted() {},
        stats: () => ({ sentFrames: 0, sentBytes: 0, staleDropped: 0, codecRestarts: 0, sent: 0, dropped: 0, beforeKeys: 0, opened: 0, unsent: 0 }),
        stop() {},
      };
      onStarted(media);
      return media;
    },
    host: () => this.linkHost,
    pageHidden: () => {},
  };

  sent(t: string): Msg[] {
    return this.out.filter((m) => m.t === t);
  }

  deliver(m: Msg): void {
    for (const fn of this.ls.message!) fn(m);
  }

  setStatus(s: string): void {
    this.status = s;
    for (const fn of this.ls.status!) fn();
  }

  /** What the server sends on a (re)connect; `connected` follows a resume that kept the call. */
  welcome(resumed: boolean, ringTimeoutMs = 45_000): void {
    this.setStatus("online");
    this.deliver({ t: "welcome", v: 2, id: this.me, group: "g", private: false, resumed, members: [], limits: { ringTimeoutMs }, version: "test" });
  }
}

/** A device key and contact book for the controller (IDENTITY.md §6), in memory. */
export function fakeTrust() {
  const priv = p256.utils.randomPrivateKey();
  const publicKey = p256.getPublicKey(priv, false);
  const contacts = new Map<string, { d: string; name: string; verifiedAt: number }>();
  const key = (d: Uint8Array) => Buffer.from(d).toString("base64url");
  return {
    device: {
      publicKey,
      sign: async (m: Uint8Array) => p256.sign(sha256(m), priv, { prehash: false }).toCompactRawBytes(),
    },
    psk: async () => null,
    contacts: {
      byKey: async (d: Uint8Array) => {
        rec.contactReads.push("byKey");
        await rec.contactsGate;
        return contacts.get(key(d)) ?? null;
      },
      named: async (name: string) => {
        rec.contactReads.push("named");
        await rec.contactsGate;
        return [...contacts.values()].filter((c) => c.name === name);
      },
      verify: async (d: Uint8Array, name: string) => void contacts.set(key(d), { d: key(d), name, verifiedAt: Date.now() }),
    },
  };
}
