// Races in the call controller that a real browser cannot produce on demand: the REAL
// CallController and KeyExchange, with the link, microphone and audio replaced (fakes.ts).
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { CallController } from "../../pwa/app/call-controller.ts";
import { FakeConn, fakeDevice, fakeTrust, leftRunning, rec, resetRec, sleep } from "./fakes.ts";

type Controller = CallController;

const CID = "0123456789abcdef0123456789abcdef";
const CID2 = "fedcba9876543210fedcba9876543210";
const A = "AAAAAA";
const B = "BBBBBB";

const controllers: Controller[] = [];
function controller(conn: FakeConn, trust = fakeTrust()): Controller {
  const c = new CallController(conn as never, trust as never, fakeDevice as never);
  controllers.push(c);
  return c;
}

beforeEach(() => resetRec());
afterEach(() => {
  vi.useRealTimers();
  for (const c of controllers.splice(0)) c.hangup();
});

async function ringingAt(b: FakeConn, cb: Controller): Promise<void> {
  await sleep(1); // supportedCodecs
  b.deliver({ t: "incoming", callId: CID, from: A, codecs: ["pcmu16"] });
  expect(cb.view.phase).toBe("incoming");
}

/** A calls B and B taps Accept; the server's `connected` is still to come. */
async function answeredCall(ta = fakeTrust(), tb = fakeTrust()): Promise<{ a: FakeConn; b: FakeConn; ca: Controller; cb: Controller }> {
  const a = new FakeConn(A);
  const b = new FakeConn(B);
  a.peer = b;
  b.peer = a;
  const ca = controller(a, ta);
  const cb = controller(b, tb);
  await sleep(1);
  await ca.call(B);
  a.deliver({ t: "outgoing", callId: CID, to: B });
  await ringingAt(b, cb);
  await cb.accept();
  return { a, b, ca, cb };
}

const b64 = (d: Uint8Array) => Buffer.from(d).toString("base64url");

/** The server's `connected` to both sides of answeredCall() (`between` runs between the two). */
function connect(a: FakeConn, b: FakeConn, between?: () => void): void {
  a.deliver({ t: "connected", callId: CID, callHandle: 7, role: "initiator", peer: B, peerCodecs: ["pcmu16"] });
  between?.();
  b.deliver({ t: "connected", callId: CID, callHandle: 7, role: "responder", peer: A, peerCodecs: ["pcmu16"] });
}

/** A calls B, B accepts, both get `connected`; resolves once both show "Encrypted". */
async function encryptedCall(): Promise<{ a: FakeConn; b: FakeConn; ca: Controller; cb: Controller }> {
  const { a, b, ca, cb } = await answeredCall();
  connect(a, b);
  await vi.waitFor(() => expect(ca.view.encrypted && cb.view.encrypted).toBe(true), { timeout: 3000, interval: 10 });
  return { a, b, ca, cb };
}

test("a double Accept tap answers once and starts one mic and one audio pipeline, all released on hang-up", async () => {
  const b = new FakeConn(B);
  const cb = controller(b);
  await ringingAt(b, cb);
  rec.micDelayMs = 30; // the second tap lands during the microphone prompt
  await Promise.all([cb.accept(), cb.accept()]);
  expect(cb.view.answering).toBe(true);
  await sleep(20);
  await cb.accept(); // and a third while waiting for `connected`
  await sleep(20);
  expect(b.sent("answer")).toHaveLength(1);
  expect([rec.micOpened, rec.ctxCreated, rec.audioStarted]).toEqual([1, 1, 1]);
  cb.hangup();
  await sleep(20);
  expect(leftRunning()).toEqual({ mic: 0, ctx: 0, audio: 0, wake: 0 });
});

test("Accept while the link is down ends plainly and releases the mic and audio", async () => {
  const b = new FakeConn(B);
  const cb = controller(b);
  await ringingAt(b, cb);
  b.status = "reconnecting"; // the status event has not reached the controller yet
  await cb.accept();
  await sleep(20);
  expect(cb.view.phase).toBe("ended");
  expect(cb.view.endedText).toBe("You're offline — the call couldn't be answered.");
  expect(leftRunning()).toEqual({ mic: 0, ctx: 0, audio: 0, wake: 0 });
});

test("the link drops after `call` went out but before `outgoing`: the caller is not left on Calling…", async () => {
  const a = new FakeConn(A);
  const ca = controller(a);
  await sleep(1);
  await ca.call(B);
  expect(a.sent("call")).toHaveLength(1);
  // Status and welcome arrive together on a quick resume, as the Connection emits them.
  a.status = "reconnecting";
  a.welcome(true);
  expect(ca.view.phase).toBe("ended");
  expect(ca.view.endedText).toBe("The connection dropped — the call wasn't placed.");
  await sleep(20);
  expect(leftRunning()).toEqual({ mic: 0, ctx: 0, audio: 0, wake: 0 });
});

test("an outgoing call that never resolves (e.g. an error without ref) ends after the ring timeout", async () => {
  const a = new FakeConn(A);
  const ca = controller(a);
  a.welcome(false, 1000);
  await sleep(1);
  vi.useFakeTimers();
  const placing = ca.call(B);
  await vi.advanceTimersByTimeAsync(10);
  await placing;
  a.deliver({ t: "error", code: "rate-limited", message: "slow down" });
  await vi.advanceTimersByTimeAsync(1000);
  expect(ca.view.phase).toBe("outgoing");
  await vi.advanceTimersByTimeAsync(5500); // past the ring timeout plus a margin for the network
  expect(ca.view.phase).toBe("ended");
  expect(ca.view.endedText).toBe("The call couldn't be placed.");
});

test("the link is lost while ringing: the incoming call stops ringing, the outgoing one ends", async () => {
  const b = new FakeConn(B);
  const cb = controller(b);
  await ringingAt(b, cb);
  expect(rec.ringing).toBe(true);
  b.setStatus("reconnecting");
  expect(cb.view.phase).toBe("ended");
  expect(cb.view.endedText).toBe(`Missed call from ${A} — the connection dropped.`);
  expect(rec.ringing).toBe(false);

  const a = new FakeConn(A);
  const ca = controller(a);
  await sleep(1);
  await ca.call(B);
  a.deliver({ t: "outgoing", callId: CID2, to: B });
  expect(ca.view.outgoing).toBe("ringing");
  a.setStatus("reconnecting");
  expect(ca.view.phase).toBe("ended");
  expect(ca.view.endedText).toBe("The connection dropped — the call wasn't placed.");
  await sleep(20);
  expect(leftRunning()).toEqual({ mic: 0, ctx: 0, audio: 0, wake: 0 });
});

test("in a call, a link that stays down past the server's grace (reconnecting or offline) ends the call and releases everything", async () => {
  const { a, b, ca, cb } = await encryptedCall();
  vi.useFakeTimers();
  a.setStatus("reconnecting");
  await vi.advanceTimersByTimeAsync(14_000);
  expect(ca.view.phase).toBe("in-call");
  a.welcome(true); // back within the grace: the call goes on
  a.deliver({ t: "connected", callId: CID, callHandle: 7, role: "initiator", peer: B, peerCodecs: ["pcmu16"] });
  a.setStatus("reconnecting");
  await vi.advanceTimersByTimeAsync(14_000);
  expect(ca.view.phase).toBe("in-call");
  await vi.advanceTimersByTimeAsync(1500);
  expect(ca.view.phase).toBe("ended");
  expect(ca.view.endedText).toBe("The connection dropped for too long — the call ended.");

  b.setStatus("offline"); // a network hand-over: the call waits out the same grace
  await vi.advanceTimersByTimeAsync(14_000);
  expect(cb.view.phase).toBe("in-call");
  await vi.advanceTimersByTimeAsync(1500);
  expect(cb.view.phase).toBe("ended");
  expect(cb.view.endedText).toBe("The connection dropped for too long — the call ended.");
  await vi.advanceTimersByTimeAsync(50);
  expect(leftRunning()).toEqual({ mic: 0, ctx: 0, audio: 0, wake: 0 });
});

test("an incoming call while busy is rejected, not left ringing on the server", async () => {
  const a = new FakeConn(A);
  const ca = controller(a);
  await sleep(1);
  rec.micDelayMs = 30;
  const placing = ca.call(B); // the microphone prompt is open, no callId yet
  a.deliver({ t: "incoming", callId: CID2, from: "CCCCCC", codecs: ["pcmu16"] });
  expect(a.sent("reject")).toEqual([{ t: "reject", callId: CID2 }]);
  await placing;
  expect(ca.view.phase).toBe("outgoing");
  ca.hangup();

  const { b, cb } = await encryptedCall();
  cb.sasVerdict(false);
  expect(cb.view.phase).toBe("security-failure");
  b.deliver({ t: "incoming", callId: CID2, from: "CCCCCC", codecs: ["pcmu16"] });
  expect(b.sent("reject")).toEqual([{ t: "reject", callId: CID2 }]);
  expect(cb.view.phase).toBe("security-failure");
});

test("a key exchange that fails locally (a throwing send) ends the call instead of staying on Securing…", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => void unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  try {
    const a = new FakeConn(A);
    const ca = controller(a);
    await sleep(1);
    await ca.call(B);
    a.deliver({ t: "outgoing", callId: CID, to: B });
    a.throwOnKx = true;
    a.deliver({ t: "connected", callId: CID, callHandle: 7, role: "initiator", peer: B, peerCodecs: ["pcmu16"] });
    await vi.waitFor(() => expect(ca.view.phase).toBe("ended"), { timeout: 2000, interval: 10 });
    expect(ca.view.endedText).toBe("Couldn't secure the call — the call ended.");
    expect(a.sent("hangup")).toEqual([{ t: "hangup", callId: CID }]);
    await sleep(20);
    expect(leftRunning()).toEqual({ mic: 0, ctx: 0, audio: 0, wake: 0 });
    // The rejected start() is handled through `done`, not reported as unhandled.
    expect(unhandled).toEqual([]);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("a vanished peer or a server restart before the keys are confirmed reads as a normal ending", async () => {
  for (const [reason, text] of [
    // A hang-up is also how the peer reports a failed key check (app-security.test.ts).
    ["hangup", "Couldn't secure the call — it ended before the keys were confirmed."],
    ["peer-gone", "Went offline"],
    ["server-shutdown", "The server restarted — the call ended"],
  ] as const) {
    const a = new FakeConn(A);
    const ca = controller(a);
    await sleep(1);
    await ca.call(B);
    a.deliver({ t: "outgoing", callId: CID, to: B });
    a.deliver({ t: "connected", callId: CID, callHandle: 7, role: "initiator", peer: B, peerCodecs: ["pcmu16"] });
    expect(ca.view.encrypted).toBe(false);
    a.deliver({ t: "ended", callId: CID, reason, by: B });
    expect(ca.view.endedText).toBe(text);
  }
});

test("a link blip during the key exchange: the held-back messages go out after the resume and the call is secured", async () => {
  const { a, b, ca, cb } = await answeredCall();
  b.deliver({ t: "connected", callId: CID, callHandle: 7, role: "responder", peer: A, peerCodecs: ["pcmu16"] });
  a.status = "reconnecting"; // the caller's link drops just as its commit is due
  a.deliver({ t: "connected", callId: CID, callHandle: 7, role: "initiator", peer: B, peerCodecs: ["pcmu16"] });
  await sleep(100);
  expect(a.sent("kx")).toHaveLength(0);
  a.welcome(true);
  a.deliver({ t: "connected", callId: CID, callHandle: 7, role: "initiator", peer: B, peerCodecs: ["pcmu16"] });
  await vi.waitFor(() => expect(ca.view.encrypted && cb.view.encrypted).toBe(true), { timeout: 2000, interval: 10 });
  expect(ca.view.sas).toEqual(cb.view.sas);
});

test("where the link runs in the page, both sides build their audio with sending off during the key exchange, and send only once the secured screen has painted", async () => {
  let painted!: () => void;
  rec.paintGate = new Promise<void>((r) => (painted = r));
  const { ca, cb } = await encryptedCall();
  // The callee's pipeline started at Accept, the caller's at `connected`: both before the keys.
  expect(rec.sendingLog).toEqual(["start sending=false", "start sending=false"]);
  await sleep(30);
  expect(rec.sendingLog).toHaveLength(2); // secured, but the screen has not painted yet
  painted();
  await vi.waitFor(() => expect(rec.sendingLog).toEqual(["start sending=false", "start sending=false", "setSending(true)", "setSending(true)"]), { timeout: 1000, interval: 5 });
  expect(ca.view.encrypted && cb.view.encrypted).toBe(true);
});

test("where the link runs in its worker, each side sends as soon as its keys are confirmed, before the pictures and the secured screen's paint", async () => {
  rec.paintGate = new Promise<void>(() => {}); // the secured screen never paints
  let pictures!: () => void;
  rec.picturesGate = new Promise<void>((r) => (pictures = r));
  const { a, b, ca, cb } = await answeredCall();
  a.linkHost = b.linkHost = "worker";
  b.deliver({ t: "connected", callId: CID, callHandle: 7, role: "responder", peer: A, peerCodecs: ["pcmu16"] });
  a.deliver({ t: "connected", callId: CID, callHandle: 7, role: "initiator", peer: B, peerCodecs: ["pcmu16"] });
  await vi.waitFor(() => expect(rec.sendingLog).toEqual(["start sending=false", "start sending=false", "setSending(true)", "setSending(true)"]), { timeout: 2000, interval: 5 });
  expect(rec.mediaLog).toEqual(["keys", "keys"]);
  expect(ca.view.encrypted || cb.view.encrypted).toBe(false); // the screens still wait for the pictures
  pictures();
  await vi.waitFor(() => expect(ca.view.encrypted && cb.view.encrypted).toBe(true), { timeout: 1000, interval: 5 });
  expect(rec.sendingLog.filter((l) => l === "setSending(true)")).toHaveLength(2); // once each
});

test("each side's media gets the keys as soon as the peer is identified, before the safety-code pictures and the secured screen", async () => {
  let pictures!: () => void;
  rec.picturesGate = new Promise<void>((r) => (pictures = r));
  const { a, b, ca, cb } = await answeredCall();
  b.deliver({ t: "connected", callId: CID, callHandle: 7, role: "responder", peer: A, peerCodecs: ["pcmu16"] });
  a.deliver({ t: "connected", callId: CID, callHandle: 7, role: "initiator", peer: B, peerCodecs: ["pcmu16"] });
  // The peer may be sending already: receiving must not wait for pictures (or a paint).
  await vi.waitFor(() => expect(rec.mediaLog).toEqual(["keys", "keys"]), { timeout: 2000, interval: 5 });
  expect(ca.view.encrypted || cb.view.encrypted).toBe(false);
  pictures();
  await vi.waitFor(() => expect(ca.view.encrypted && cb.view.encrypted).toBe(true), { timeout: 1000, interval: 5 });
  expect(rec.mediaLog).toEqual(["keys", "keys"]); // once each
});

test("a hang-up while the secured screen paints: sending never starts, and everything is released", async () => {
  let painted!: () => void;
  rec.paintGate = new Promise<void>((r) => (painted = r));
  const { ca } = await encryptedCall();
  ca.hangup();
  painted();
  await sleep(30);
  expect(rec.sendingLog.filter((l) => l.startsWith("setSending"))).toEqual(["setSending(true)"]); // only the other side's
  expect(rec.audioStopped).toBe(1); // the hung-up side's pipeline; the other side is still in its call
});

test("this device's records of the peer are read while the keys are exchanged, so a slow storage does not stand between the keys and the first words", async () => {
  const [ta, tb] = [fakeTrust(), fakeTrust()];
  const { a, b, ca, cb } = await answeredCall(ta, tb);
  a.members.set(B, { id: B, name: "Bea", d: b64(tb.device.publicKey) });
  b.members.set(A, { id: A, name: "Al", d: b64(ta.device.publicKey) });
  let release!: () => void;
  rec.contactsGate = new Promise<void>((r) => (release = r));
  connect(a, b);
  // Asked at `connected`, before a single key-exchange message came back.
  expect(rec.contactReads).toEqual(["byKey", "named", "byKey", "named"]);
  release();
  await vi.waitFor(() => expect(ca.view.encrypted && cb.view.encrypted).toBe(true), { timeout: 3000, interval: 10 });
  // The proven key is the roster's: nothing more is read after the confirmation.
  expect(rec.contactReads).toHaveLength(4);
  expect([ca.view.verification, cb.view.verification]).toEqual(["unverified", "unverified"]);
});

test("a verified contact's proven key is recognised from the records read during the exchange; another key from the same roster entry is an interception", async () => {
  const [ta, tb, impostor] = [fakeTrust(), fakeTrust(), fakeTrust()];
  await ta.contacts.verify(tb.device.publicKey, "Bea");
  const { a, b, ca } = await answeredCall(ta, tb);
  a.members.set(B, { id: B, name: "Bea", d: b64(tb.device.publicKey) });
  connect(a, b);
  await vi.waitFor(() => expect(ca.view.encrypted).toBe(true), { timeout: 3000, interval: 10 });
  expect([ca.view.verification, ca.view.contactName]).toEqual(["verified", "Bea"]);

  // The same roster entry, but the phone that answers proves another key.
  resetRec();
  const x = await answeredCall(ta, impostor);
  x.a.members.set(B, { id: B, name: "Bea", d: b64(tb.device.publicKey) });
  connect(x.a, x.b);
  await vi.waitFor(() => expect(x.ca.view.phase).toBe("security-failure"), { timeout: 3000, interval: 10 });
  expect(x.ca.view.failureText).toMatch(/isn't the phone you verified/);
  expect(x.a.mediaKeyed).toBe(false);
  expect(x.b.mediaKeyed).toBe(true); // the answering phone's own
  expect(x.a.sent("hangup")).toHaveLength(1);
});

test("the roster entry changes during the exchange (the person came back on another phone): it is read again, not judged from the old one", async () => {
  const [ta, tb, other] = [fakeTrust(), fakeTrust(), fakeTrust()];
  await ta.contacts.verify(tb.device.publicKey, "Bea");
  const { a, b, ca } = await answeredCall(ta, other);
  a.members.set(B, { id: B, name: "Bea", d: b64(tb.device.publicKey) });
  // Between the two `connected`: the roster now lists the new phone.
  connect(a, b, () => a.members.set(B, { id: B, name: "Bea", d: b64(other.device.publicKey) }));
  await vi.waitFor(() => expect(ca.view.encrypted).toBe(true), { timeout: 3000, interval: 10 });
  // The old entry would have read as an interception; the current one is a new safety key.
  expect(ca.view.verification).toBe("key-changed");
});

test("a proven key other than the roster's, but itself a verified contact, is verified (read after the exchange)", async () => {
  const [ta, tb, other] = [fakeTrust(), fakeTrust(), fakeTrust()];
  await ta.contacts.verify(tb.device.publicKey, "Bea");
  const { a, b, ca } = await answeredCall(ta, tb);
  a.members.set(B, { id: B, name: "Bee", d: b64(other.device.publicKey) });
  connect(a, b);
  await vi.waitFor(() => expect(ca.view.encrypted).toBe(true), { timeout: 3000, interval: 10 });
  expect([ca.view.verification, ca.view.contactName]).toEqual(["verified", "Bea"]);
});

test("this device's records cannot be read: the call ends instead of going on unchecked", async () => {
  const [ta, tb] = [fakeTrust(), fakeTrust()];
  ta.contacts.named = async () => {
    throw new DOMException("storage failed", "UnknownError");
  };
  const { a, b, ca } = await answeredCall(ta, tb);
  a.members.set(B, { id: B, name: "Bea", d: b64(tb.device.publicKey) });
  connect(a, b);
  await vi.waitFor(() => expect(ca.view.phase).toBe("ended"), { timeout: 3000, interval: 10 });
  expect(ca.view.endedText).toBe("Couldn't check who answered on this device — the call ended.");
  expect(a.mediaKeyed).toBe(false);
  expect(a.sent("hangup")).toHaveLength(1);
});

describe("the microphone and the first messages", () => {
  test("where the microphone is already allowed, Accept answers while it is still opening; audio starts once it is open", async () => {
    const b = new FakeConn(B);
    const cb = controller(b);
    await ringingAt(b, cb);
    rec.micAllowed = true;
    let open!: () => void;
    rec.micGate = new Promise<void>((r) => (open = r));
    const accepting = cb.accept();
    await vi.waitFor(() => expect(b.sent("answer")).toHaveLength(1), { timeout: 1000, interval: 5 });
    expect([rec.micOpened, rec.audioStarted]).toEqual([0, 0]);
    open();
    await accepting;
    await vi.waitFor(() => expect(rec.audioStarted).toBe(1), { timeout: 1000, interval: 5 });
    expect(rec.micOpened).toBe(1);
  });

  test("where a prompt may come, Accept answers only once the microphone is open, and a Block refuses the call", async () => {
    const b = new FakeConn(B);
    const cb = controller(b);
    await ringingAt(b, cb);
    let open!: () => void;
    rec.micGate = new Promise<void>((r) => (open = r));
    rec.micFails = true;
    const accepting = cb.accept();
    await sleep(30);
    expect(b.out).toEqual([]);
    open();
    await accepting;
    expect(b.out.map((m) => m.t)).toEqual(["reject"]);
    expect(cb.view.endedText).toBe("Microphone blocked — allow it for this site to take calls.");
    expect(leftRunning()).toEqual({ mic: 0, ctx: 0, audio: 0, wake: 0 });
  });

  /** Both microphones allowed and still opening (one gate): placed, rung and answered meanwhile. */
  async function answeredWhileMicsOpen() {
    rec.micAllowed = true;
    let release!: () => void;
    rec.micGate = new Promise<void>((r) => (release = r));
    const a = new FakeConn(A);
    const b = new FakeConn(B);
    a.peer = b;
    b.peer = a;
    const ca = controller(a);
    const cb = controller(b);
    await sleep(1);
    const placing = ca.call(B);
    await vi.waitFor(() => expect(a.sent("call")).toHaveLength(1), { timeout: 1000, interval: 5 });
    a.deliver({ t: "outgoing", callId: CID, to: B });
    await ringingAt(b, cb);
    const accepting = cb.accept();
    await vi.waitFor(() => expect(b.sent("answer")).toHaveLength(1), { timeout: 1000, interval: 5 });
    /** Both openings fail now; resolves once both taps' handlers are done. */
    const failMics = () => {
      rec.micFails = true;
      release();
      return Promise.all([placing, accepting]);
    };
    return { a, b, ca, cb, failMics };
  }

  test("allowed, but the microphone fails after the answer went out: the call is hung up, nothing is left running", async () => {
    const { a, b, ca, cb, failMics } = await answeredWhileMicsOpen();
    await failMics();
    expect(b.out.map((m) => m.t)).toEqual(["answer", "hangup"]);
    expect(cb.view.endedText).toBe("Microphone blocked — allow it for this site to take calls.");
    expect(a.out.map((m) => m.t)).toEqual(["call", "hangup"]);
    expect(ca.view.endedText).toBe("Microphone blocked — allow it for this site to make calls.");
    expect(rec.audioStarted).toBe(0);
    await sleep(20);
    expect(leftRunning()).toEqual({ mic: 0, ctx: 0, audio: 0, wake: 0 });
  });

  test("where a prompt may come, the call is placed only once the microphone is open", async () => {
    const a = new FakeConn(A);
    const ca = controller(a);
    await sleep(1);
    let open!: () => void;
    rec.micGate = new Promise<void>((r) => (open = r));
    const placing = ca.call(B);
    await sleep(30);
    expect(a.out).toEqual([]);
    open();
    await placing;
    expect(a.out.map((m) => m.t)).toEqual(["call"]);
  });

  test("allowed, and the microphone fails once the call is connected: it is hung up", async () => {
    const { a, b, ca, cb, failMics } = await answeredWhileMicsOpen();
    connect(a, b);
    expect(cb.view.phase).toBe("in-call");
    await failMics();
    expect(cb.view.phase).toBe("ended");
    expect(b.out.map((m) => m.t).filter((t) => t !== "kx")).toEqual(["answer", "hangup"]);
    expect(ca.view.phase).toBe("ended");
    expect(rec.audioStarted).toBe(0);
  });

  test("allowed, and the microphone fails before the server named the call: it is hung up when it does", async () => {
    rec.micAllowed = true;
    let fail!: () => void;
    rec.micGate = new Promise<void>((r) => (fail = r));
    const a = new FakeConn(A);
    const ca = controller(a);
    await sleep(1);
    const placing = ca.call(B);
    await vi.waitFor(() => expect(a.sent("call")).toHaveLength(1), { timeout: 1000, interval: 5 });
    rec.micFails = true;
    fail();
    await placing;
    expect(ca.view.endedText).toBe("Microphone blocked — allow it for this site to make calls.");
    a.deliver({ t: "outgoing", callId: CID, to: B });
    expect(a.out.map((m) => m.t)).toEqual(["call", "hangup"]);
  });

  test("where a prompt may come, nobody is rung before the caller allowed the microphone", async () => {
    const a = new FakeConn(A);
    const ca = controller(a);
    await sleep(1);
    rec.micFails = true;
    await ca.call(B);
    expect(a.out).toEqual([]);
    expect(ca.view.endedText).toBe("Microphone blocked — allow it for this site to make calls.");
  });
});
