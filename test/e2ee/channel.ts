// In-memory relay between KeyExchange instances, standing in for the server's opaque
// {t:"kx"} relay. Each direction can be intercepted to model a hostile relay.

import { KeyExchange, type KeyExchangeOptions } from "../../pwa/e2ee/index.ts";

export type Deliver = (body: string) => void;
/** Decides what the receiving side gets; call deliver 0..n times, now or later. */
export type Intercept = (body: string, deliver: Deliver) => void;

export const passThrough: Intercept = (body, deliver) => deliver(body);

export interface Pair {
  i: KeyExchange;
  r: KeyExchange;
  sentByI: string[];
  sentByR: string[];
}

type Extra = Omit<KeyExchangeOptions, "callId" | "role" | "send" | "unsafeTestOnly">;

export function makePair(opts: {
  callId: string;
  toR?: Intercept;
  toI?: Intercept;
  keyPairI?: CryptoKeyPair;
  keyPairR?: CryptoKeyPair;
  ratchetInterval?: number;
  extra?: Extra;
  /** Per side, on top of extra (v2: each side's own device key). */
  extraI?: Extra;
  extraR?: Extra;
}): Pair {
  const sentByI: string[] = [];
  const sentByR: string[] = [];
  // Asynchronous delivery like a real socket: never re-enters the sender.
  const later = (f: () => void) => setTimeout(f, 0);
  const toR = opts.toR ?? passThrough;
  const toI = opts.toI ?? passThrough;
  const pair = {} as Pair;
  pair.i = new KeyExchange({
    ...opts.extra,
    ...opts.extraI,
    callId: opts.callId,
    role: "initiator",
    send: (b) => {
      sentByI.push(b);
      toR(b, (x) => later(() => pair.r.receive(x)));
    },
    unsafeTestOnly: { keyPair: opts.keyPairI, ratchetInterval: opts.ratchetInterval },
  });
  pair.r = new KeyExchange({
    ...opts.extra,
    ...opts.extraR,
    callId: opts.callId,
    role: "responder",
    send: (b) => {
      sentByR.push(b);
      toI(b, (x) => later(() => pair.i.receive(x)));
    },
    unsafeTestOnly: { keyPair: opts.keyPairR, ratchetInterval: opts.ratchetInterval },
  });
  pair.sentByI = sentByI;
  pair.sentByR = sentByR;
  return pair;
}

export function randomCallId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex");
}

/** Settles to the rejection reason, or "resolved". */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "resolved";
  } catch (e) {
    return (e as { reason?: string }).reason ?? `unexpected: ${String(e)}`;
  }
}
