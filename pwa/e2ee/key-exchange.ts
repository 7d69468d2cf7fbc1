// PROTOCOL.md §2 (commit, then reveal) and §4 (key confirmation) as one state machine per call.
//
// Decisions on points PROTOCOL.md leaves open (also in docs/PROTOCOL-NOTES.md):
// - callId enters the commitment and T as its 16 raw bytes; labels are their ASCII bytes with
//   no length prefix or terminator. Body encoding: see kx-message.ts (JSON, base64url, with
//   the callId repeated inside so foreign bodies are recognised).
// - Initiator: a `pub` that arrives before its own commit went out is ignored, not buffered:
//   an honest responder only answers a commit, so such a pub cannot be the answer to ours.
//   Only the first well-formed `pub` after the commit is used; later ones are ignored.
// - Responder: a `reveal` that arrives before it sent `pub` is ignored (pubR must be out
//   before pubI is seen). Only the first `commit` is used. The commitment is checked before
//   the point. Both rules are judged at arrival time, not when the queue processes the message.
// - A peer point equal to our own is rejected as "invalid-point": it can only be a reflection.
// - Points are validated twice: our own on-curve check, then WebCrypto importKey.
// - `confirm` may overtake the reveal on the way (out-of-order delivery), so the first confirm
//   that arrives before our keys exist is held and checked once they do; later early ones are
//   ignored. A confirm byte-equal to our own is our message reflected back and is ignored;
//   any other confirm that fails verification is fatal ("confirm").
// - Messages that arrive before start() finished generating the key pair are queued (at most
//   MAX_QUEUED; beyond that they are dropped, as a flood can only come from a hostile relay,
//   which could drop messages anyway).
// - The 10 s timeout runs from start() until `done` settles.
// - Media keys are imported as soon as they are derived but handed out (CallKeys) only after
//   the peer's confirm verified; on any failure they are dropped unused. The ephemeral private
//   key is dropped as soon as Z is computed, kC once the peer's confirm verified.
// - seq/epoch/ratchet/grace decisions: see frame-sealer.ts and frame-opener.ts.
// v2 (IDENTITY.md §5–§6, with `v2` options; docs/IDENTITY-NOTES.md):
// - Commitment and T use the v2 labels; T binds both codec offers; IKM = Z || psk.
// - Right after its own confirm each side sends `id` (identity-binding.ts). `done` resolves
//   only when the peer's confirm AND its identity verified, so no audio key is handed out — and
//   no audio sent — before the app knows which device is on the other end. An `id` that
//   arrives before our keys exist is held (the first one only), like an early confirm.
// - An invalid `id` (wrong key, another call's T, reflected, not decryptable) fails the
//   exchange with "identity", reported like any other key-check failure.

import { constantTimeEqual, hexToBytes } from "./bytes.ts";
import { commitmentMatches, computeCommitment } from "./commitment.ts";
import { confirmMac, importConfirmKey, verifyConfirm } from "./confirm.ts";
import { exportPublicPoint, generateEphemeralKeyPair, importPeerPoint, sharedSecret } from "./ecdh.ts";
import { FrameOpener } from "./frame-opener.ts";
import { FrameSealer } from "./frame-sealer.ts";
import { type DeviceSigner, openIdentity, sealIdentity } from "./identity-binding.ts";
import { deriveSchedule, sasBitsOf, type ScheduleV2, transcriptHash, wipeSchedule } from "./key-schedule.ts";
import { decodeKxBody, encodeKxBody, type KxMessage, normalizeCallId } from "./kx-message.ts";
import { dropEpochKeys, type EpochKeys, importEpochKeys } from "./ratchet.ts";
import { peerRole, type Role } from "./role.ts";
import { type Sas, sasFromBits } from "./sas.ts";

export const DEFAULT_KX_TIMEOUT_MS = 10_000;
const MAX_QUEUED = 32;

export type KeyExchangeFailure = "commitment" | "confirm" | "identity" | "invalid-point" | "timeout" | "aborted";

const MESSAGES: Record<KeyExchangeFailure, string> = {
  identity: "Key check failed — the connection may be intercepted.",
  commitment: "Key check failed — the connection may be intercepted.",
  confirm: "Key check failed — the connection may be intercepted.",
  "invalid-point": "Key check failed — the connection may be intercepted.",
  timeout: "The secure connection could not be set up in time.",
  aborted: "The key exchange was stopped.",
};

export class KeyExchangeError extends Error {
  readonly reason: KeyExchangeFailure;
  constructor(reason: KeyExchangeFailure, message = MESSAGES[reason]) {
    super(message);
    this.name = "KeyExchangeError";
    this.reason = reason;
  }
}

export interface CallKeys {
  sas: Sas;
  /** v2: the peer's device point D, proven over this call's T (IDENTITY.md §6); null in v1. */
  peerDevice: Uint8Array | null;
  sealer: FrameSealer; // own direction (initiator: I->R)
  opener: FrameOpener; // peer direction
  /** The media keys for a sealer and opener elsewhere (the link worker); the sealer and opener
   *  here are unusable afterwards. Only before either was used. */
  handOff(): MediaKeys;
  destroy(): void;
}

/** A call's epoch-0 media keys in both directions, as handed to the link worker (structured-
 *  cloneable: non-extractable CryptoKeys and the 12-byte salts). */
export interface MediaKeys {
  seal: { keys: EpochKeys; seq: number; ratchetInterval: number };
  open: EpochKeys;
}

export interface KeyExchangeOptions {
  callId: string; // 32 hex chars from the server
  role: Role;
  send: (body: string) => void;
  timeoutMs?: number;
  /** Protocol v2 (IDENTITY.md §5–§6): the codec offers, the group's psk and this device's key. */
  v2?: ScheduleV2 & { device: DeviceSigner };
  /** Monotonic milliseconds for the opener's previous-epoch grace period (tests inject one). */
  clock?: () => number;
  /** Never set in the app: fixed keys and short ratchet intervals exist for tests and vectors only. */
  unsafeTestOnly?: { keyPair?: CryptoKeyPair; ratchetInterval?: number };
}

export type KeyExchangePhase = "new" | "await-commit" | "await-reveal" | "await-pub" | "deriving" | "confirming" | "done" | "failed";

interface Derived {
  sas: Sas;
  sealKeys: EpochKeys;
  openKeys: EpochKeys;
  kC: CryptoKey;
  ownConfirm: Uint8Array;
  /** v2: the transcript and the peer direction's identity key, until its `id` is checked. */
  T: Uint8Array;
  peerIdKey: Uint8Array | null;
  confirmed: boolean;
  peerDevice: Uint8Array | null;
}

export class KeyExchange {
  readonly done: Promise<CallKeys>;
  private resolveDone!: (k: CallKeys) => void;
  private rejectDone!: (e: KeyExchangeError) => void;
  private readonly callId: string;
  private readonly callIdBytes: Uint8Array;
  private readonly role: Role;
  private readonly send: (body: string) => void;
  private readonly timeoutMs: number;
  private readonly opts: KeyExchangeOptions;
  private phase: KeyExchangePhase = "new";
  private settled = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private startPromise: Promise<void> | null = null;
  private keyPair: CryptoKeyPair | null = null;
  private ownPub: Uint8Array | null = null;
  private commitH: Uint8Array | null = null;
  private derived: Derived | null = null;
  private earlyConfirm: Uint8Array | null = null;
  private earlyId: Uint8Array | null = null;
  private result: CallKeys | null = null;
  private queued = 0;
  private commitSent = false;
  private pubSent = false;
  private markReady!: () => void;
  private chain: Promise<void>;

  constructor(opts: KeyExchangeOptions) {
    const callId = normalizeCallId(opts.callId);
    if (!callId) throw new TypeError("callId must be 32 hex characters");
    if (opts.role !== "initiator" && opts.role !== "responder") throw new TypeError("role must be initiator or responder");
    if (typeof opts.send !== "function") throw new TypeError("send must be a function");
    const timeoutMs = opts.timeoutMs ?? DEFAULT_KX_TIMEOUT_MS;
    if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) throw new RangeError("timeoutMs must be positive");
    const kp = opts.unsafeTestOnly?.keyPair;
    if (kp && kp.privateKey.extractable) throw new TypeError("private key must be non-extractable");
    this.callId = callId;
    this.callIdBytes = hexToBytes(callId)!;
    this.role = opts.role;
    this.send = opts.send;
    this.timeoutMs = timeoutMs;
    this.opts = opts;
    this.done = new Promise<CallKeys>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // Callers that only use abort() must not trigger unhandled-rejection reports; `done`
    // still rejects for everyone who awaits it.
    this.done.catch(() => {});
    this.chain = new Promise<void>((r) => (this.markReady = r));
  }

  start(): Promise<void> {
    this.startPromise ??= this.run();
    return this.startPromise;
  }

  private async run(): Promise<void> {
    if (this.settled) return;
    this.timer = setTimeout(() => this.fail("timeout"), this.timeoutMs);
    try {
      this.keyPair = this.opts.unsafeTestOnly?.keyPair ?? (await generateEphemeralKeyPair());
      const ownPub = await exportPublicPoint(this.keyPair.publicKey);
      if (this.settled) return;
      this.ownPub = ownPub;
      if (this.role === "initiator") {
        const h = await computeCommitment(this.callIdBytes, ownPub, this.version);
        if (this.settled) return;
        // State first: a synchronous relay may hand us the answer from inside send().
        this.commitSent = true;
        this.phase = "await-pub";
        this.emit({ k: "commit", callId: this.callId, h });
      } else {
        this.phase = "await-commit";
      }
    } catch (e) {
      this.fail(e instanceof KeyExchangeError ? e.reason : "aborted");
      throw e;
    } finally {
      this.markReady();
    }
  }

  receive(body: string): void {
    if (this.settled) return;
    const msg = decodeKxBody(body);
    if (!msg || msg.callId !== this.callId) return;
    // Judged on arrival, not when the queue gets to it: a pub that arrived before our commit
    // went out (or a reveal before our pub) cannot be an answer to it, whatever came since.
    if (this.role === "initiator" && msg.k === "pub" && !this.commitSent) return;
    if (this.role === "responder" && msg.k === "reveal" && !this.pubSent) return;
    if (this.queued >= MAX_QUEUED) return;
    this.queued++;
    this.chain = this.chain
      .then(async () => {
        this.queued--;
        if (!this.settled) await this.handle(msg);
      })
      .catch((e) => this.fail(e instanceof KeyExchangeError ? e.reason : "aborted"));
  }

  abort(): void {
    if (!this.settled) this.fail("aborted");
    else this.result?.destroy();
  }

  private async handle(msg: KxMessage): Promise<void> {
    if (msg.k === "confirm") return this.onConfirm(msg.mac);
    if (msg.k === "id") return this.onIdentity(msg.e);
    if (msg.k === "mismatch") return; // the app's business, after the exchange
    if (this.role === "initiator") {
      if (msg.k !== "pub" || this.phase !== "await-pub") return;
      this.phase = "deriving";
      const peer = await this.validatePoint(msg.pub);
      this.emit({ k: "reveal", callId: this.callId, pub: this.ownPub! });
      await this.derive(this.ownPub!, msg.pub, peer);
    } else if (msg.k === "commit") {
      if (this.phase !== "await-commit") return;
      this.commitH = msg.h;
      this.phase = "await-reveal";
      this.pubSent = true;
      this.emit({ k: "pub", callId: this.callId, pub: this.ownPub! });
    } else if (msg.k === "reveal") {
      if (this.phase !== "await-reveal") return;
      this.phase = "deriving";
      if (!(await commitmentMatches(this.commitH!, this.callIdBytes, msg.pub, this.version))) throw new KeyExchangeError("commitment");
      const peer = await this.validatePoint(msg.pub);
      await this.derive(msg.pub, this.ownPub!, peer);
    }
  }

  private async validatePoint(pt: Uint8Array): Promise<CryptoKey> {
    if (constantTimeEqual(pt, this.ownPub!)) throw new KeyExchangeError("invalid-point");
    const key = await importPeerPoint(pt);
    if (!key) throw new KeyExchangeError("invalid-point");
    return key;
  }

  private async derive(pubI: Uint8Array, pubR: Uint8Array, peer: CryptoKey): Promise<void> {
    let Z: Uint8Array;
    try {
      Z = await sharedSecret(this.keyPair!.privateKey, peer);
    } catch {
      throw new KeyExchangeError("invalid-point");
    }
    this.keyPair = null;
    const v2 = this.opts.v2;
    const T = await transcriptHash(this.callIdBytes, pubI, pubR, v2);
    const raw = await deriveSchedule(Z, T, v2);
    let ownId: Uint8Array | null = null;
    let derived: Derived;
    try {
      const mine = this.role === "initiator" ? [raw.kIR, raw.sIR, raw.kRI, raw.sRI] : [raw.kRI, raw.sRI, raw.kIR, raw.sIR];
      const sealKeys = await importEpochKeys(mine[0]!, mine[1]!, "encrypt");
      const openKeys = await importEpochKeys(mine[2]!, mine[3]!, "decrypt");
      const kC = await importConfirmKey(raw.kC);
      const ownConfirm = await confirmMac(kC, this.role);
      let peerIdKey: Uint8Array | null = null;
      if (v2) {
        const [mineId, peerId] = this.role === "initiator" ? [raw.kIdIR!, raw.kIdRI!] : [raw.kIdRI!, raw.kIdIR!];
        ownId = await sealIdentity(mineId.slice(), T, this.role, v2.device);
        peerIdKey = peerId.slice();
      }
      derived = { sas: sasFromBits(sasBitsOf(raw.sas)), sealKeys, openKeys, kC, ownConfirm, T, peerIdKey, confirmed: false, peerDevice: null };
    } finally {
      wipeSchedule(raw);
    }
    if (this.settled) {
      dropEpochKeys(derived.sealKeys);
      dropEpochKeys(derived.openKeys);
      return;
    }
    this.derived = derived;
    this.phase = "confirming";
    this.emit({ k: "confirm", callId: this.callId, mac: derived.ownConfirm });
    if (ownId) this.emit({ k: "id", callId: this.callId, e: ownId });
    const early = this.earlyConfirm;
    this.earlyConfirm = null;
    if (early) await this.onConfirm(early);
    const earlyId = this.earlyId;
    this.earlyId = null;
    if (earlyId && !this.settled) await this.onIdentity(earlyId);
  }

  private async onIdentity(e: Uint8Array): Promise<void> {
    if (!this.opts.v2) return;
    const d = this.derived;
    if (this.phase !== "confirming" || !d) {
      if (!this.earlyId && this.phase !== "done" && this.phase !== "failed") this.earlyId = e;
      return;
    }
    if (d.peerDevice || !d.peerIdKey) return; // one identity per call; later ones are ignored
    const key = d.peerIdKey;
    d.peerIdKey = null;
    const D = await openIdentity(key, d.T, peerRole(this.role), e);
    if (this.settled) return;
    if (!D) throw new KeyExchangeError("identity");
    d.peerDevice = D;
    if (d.confirmed) this.finish(d);
  }

  private get version(): 1 | 2 {
    return this.opts.v2 ? 2 : 1;
  }

  private async onConfirm(mac: Uint8Array): Promise<void> {
    if (this.phase !== "confirming") {
      if (!this.earlyConfirm && this.phase !== "done" && this.phase !== "failed") this.earlyConfirm = mac;
      return;
    }
    const d = this.derived!;
    if (constantTimeEqual(mac, d.ownConfirm)) return;
    if (d.confirmed) return;
    const ok = await verifyConfirm(d.kC, peerRole(this.role), mac);
    if (this.settled) return;
    if (!ok) throw new KeyExchangeError("confirm");
    d.confirmed = true;
    if (!this.opts.v2 || d.peerDevice) this.finish(d);
  }

  private finish(d: Derived): void {
    const ratchetInterval = this.opts.unsafeTestOnly?.ratchetInterval;
    const sealer = new FrameSealer(d.sealKeys, ratchetInterval ? { ratchetInterval } : {});
    const opener = new FrameOpener(d.openKeys, this.opts.clock ? { clock: this.opts.clock } : {});
    this.derived = null; // drops kC
    this.phase = "done";
    this.settled = true;
    this.clearTimer();
    d.T.fill(0);
    const result: CallKeys = {
      sas: d.sas,
      peerDevice: d.peerDevice,
      sealer,
      opener,
      handOff: () => {
        // Both or neither: keys taken from one and not the other would be lost unwiped.
        if (!sealer.canHandOff || !opener.canHandOff) throw new Error("media keys already in use");
        return { seal: sealer.handOff(), open: opener.handOff() };
      },
      destroy() {
        sealer.destroy();
        opener.destroy();
      },
    };
    this.result = result;
    this.resolveDone(result);
  }

  private fail(reason: KeyExchangeFailure): void {
    if (this.settled) return;
    this.settled = true;
    this.phase = "failed";
    this.clearTimer();
    this.keyPair = null;
    this.commitH = null;
    this.earlyConfirm = null;
    this.earlyId = null;
    if (this.derived) {
      this.derived.peerIdKey?.fill(0);
      dropEpochKeys(this.derived.sealKeys);
      dropEpochKeys(this.derived.openKeys);
      this.derived = null;
    }
    this.rejectDone(new KeyExchangeError(reason));
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private emit(msg: KxMessage): void {
    this.send(encodeKxBody(msg));
  }

  /** The callId this exchange belongs to, lower-case hex. */
  get id(): string {
    return this.callId;
  }

  /** For diagnostics UI only (no key material): where the exchange currently is. */
  get state(): KeyExchangePhase {
    return this.phase;
  }
}
