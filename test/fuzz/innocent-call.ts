// The call that must not notice the fuzzing: two members of a group in a connected call, each
// sending one media frame every 20 ms (a real call's rate) for the whole run. Every frame carries
// a marker, its direction and a sequence number, so the receiver can tell a lost, reordered or
// foreign frame (one a fuzzer injected with this call's handle) from the real ones.
import { decodeMediaHeader, encodeMediaHeader, MEDIA_HEADER_BYTES } from "../../protocol/media-header.ts";
import type { TestClient } from "../helpers/ws-client.ts";
import { joinGroup } from "./join.ts";

const MARK = Buffer.from("INNOCENT");
const FRAME_BYTES = 100;

export interface InnocentReport {
  sent: number;
  received: number;
  /** Frames that were not the peer's (wrong marker or direction): must be 0. */
  foreign: number;
  outOfOrder: number;
  /** The call was ended or a socket closed during the run: must be false. */
  disturbed: string | null;
  deliveredPercent: number;
}

export interface InnocentCall {
  handle: number;
  memberIds: string[];
  stop(): Promise<InnocentReport>;
}

export async function startInnocentCall(wsUrl: (group: string) => string, group = "innocent"): Promise<InnocentCall> {
  const a = await joinGroup(wsUrl(group));
  const b = await joinGroup(wsUrl(group));
  a.send({ t: "call", to: b.id });
  const inc = await b.next("incoming");
  b.send({ t: "answer", callId: inc.callId });
  const connected = await a.next("connected");
  await b.next("connected");
  const handle = connected.callHandle;

  const sides = [
    { me: a, dir: 0, seq: 0 },
    { me: b, dir: 1, seq: 0 },
  ];
  let sent = 0;
  let received = 0;
  let foreign = 0;
  let outOfOrder = 0;
  const lastSeq = [-1, -1];
  const check = (receiver: number) => (ev: MessageEvent) => {
    if (typeof ev.data === "string") return;
    const f = Buffer.from(ev.data as ArrayBuffer);
    const from = 1 - receiver;
    const ok = f.length === FRAME_BYTES && decodeMediaHeader(f).callHandle === handle && f.subarray(MEDIA_HEADER_BYTES, MEDIA_HEADER_BYTES + MARK.length).equals(MARK) && f[MEDIA_HEADER_BYTES + MARK.length] === from;
    if (!ok) return void foreign++;
    const seq = f.readUInt32BE(MEDIA_HEADER_BYTES + MARK.length + 1);
    if (seq !== lastSeq[receiver]! + 1) outOfOrder++;
    lastSeq[receiver] = seq;
    received++;
  };
  a.ws.addEventListener("message", check(0));
  b.ws.addEventListener("message", check(1));

  const send = () => {
    for (const s of sides) {
      if (s.me.ws.readyState !== WebSocket.OPEN) continue;
      const f = Buffer.alloc(FRAME_BYTES);
      f.set(encodeMediaHeader({ callHandle: handle, epoch: 0, seq: s.seq }));
      MARK.copy(f, MEDIA_HEADER_BYTES);
      f[MEDIA_HEADER_BYTES + MARK.length] = s.dir;
      f.writeUInt32BE(s.seq, MEDIA_HEADER_BYTES + MARK.length + 1);
      s.seq++;
      s.me.ws.send(f);
      sent++;
    }
  };
  const timer = setInterval(send, 20);

  const disturbance = (c: TestClient, name: string) => {
    if (c.closed) return `${name}'s socket closed (${c.closed.code})`;
    const bad = c.messages.find((m) => (m.t === "ended" && m.callId === connected.callId) || m.t === "peer-away" || m.t === "bye" || (m.t === "error" && m.code !== "rate-limited"));
    return bad ? `${name} got ${JSON.stringify(bad)}` : null;
  };

  return {
    handle,
    memberIds: [a.id, b.id],
    async stop() {
      clearInterval(timer);
      // The last frames are still on their way.
      const end = Date.now() + 5000;
      while (received + foreign < sent && Date.now() < end) await Bun.sleep(20);
      await Bun.sleep(100);
      const disturbed = disturbance(a, "caller") ?? disturbance(b, "callee");
      a.close();
      b.close();
      return { sent, received, foreign, outOfOrder, disturbed, deliveredPercent: sent ? Math.floor((received / sent) * 10000) / 100 : 0 };
    },
  };
}
