// The REAL Connection (and its link host, run in the page) against a scripted WebSocket: a browser `online` event that lands while a
// retry's socket is still connecting must not leave two sockets resuming the same identity
// (the server keeps the later one and closes the live one as "replaced").
import { afterAll, beforeAll, expect, test, vi } from "vitest";

class ScriptedSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 3;
  static all: ScriptedSocket[] = [];
  readyState = ScriptedSocket.CONNECTING;
  binaryType = "";
  bufferedAmount = 0;
  sent: string[] = [];
  closedByClient: number | null = null;
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  constructor(readonly url: string) {
    ScriptedSocket.all.push(this);
  }
  send(data: string): void {
    this.sent.push(data);
  }
  close(code = 1000): void {
    this.closedByClient = code;
    this.readyState = ScriptedSocket.CLOSED;
  }
  /** The server side: the handshake completes (the client then says hello). */
  open(): void {
    if (this.readyState !== ScriptedSocket.CONNECTING) return;
    this.readyState = ScriptedSocket.OPEN;
    this.onopen?.();
  }
  receive(msg: object): void {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  drop(code: number): void {
    this.readyState = ScriptedSocket.CLOSED;
    this.onclose?.({ code });
  }
}

const windowListeners: Record<string, ((e?: unknown) => void)[]> = {};
const store = new Map<string, string>();

beforeAll(() => {
  vi.stubGlobal("WebSocket", ScriptedSocket);
  vi.stubGlobal("location", { protocol: "https:", host: "example.test" });
  vi.stubGlobal("addEventListener", (t: string, f: () => void) => (windowListeners[t] ??= []).push(f));
  vi.stubGlobal("removeEventListener", () => {});
  vi.stubGlobal("sessionStorage", {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  });
  vi.stubGlobal("navigator", { onLine: true });
});
afterAll(() => {
  vi.unstubAllGlobals();
});

test("an `online` event during a retry does not open a second socket that resumes the same identity", async () => {
  const { Connection } = await import("../../pwa/app/connection.ts");
  vi.useFakeTimers();
  try {
    const signed: string[] = [];
    const conn = new Connection("fam", async (n) => {
      signed.push(n);
      return { t: "hello", v: 2, d: "D", name: "Ann", sig: `sig-over-${n}` };
    });
    const first = ScriptedSocket.all[0]!;
    first.open();
    first.receive({ t: "challenge", n: "n0" });
    await vi.advanceTimersByTimeAsync(0);
    expect(JSON.parse(first.sent[0]!)).toMatchObject({ t: "hello", sig: "sig-over-n0" });
    first.receive({ t: "welcome", v: 2, id: "AAAAAA", group: "fam", private: false, resumed: false, members: [], limits: {}, version: "1" });
    await vi.advanceTimersByTimeAsync(0); // the link host hands events on in a later microtask, as from its worker
    expect(conn.status).toBe("online");

    first.drop(1006); // a network switch
    await vi.advanceTimersByTimeAsync(1100); // the first retry's socket is now connecting
    expect(conn.status).toBe("reconnecting");
    const retry = ScriptedSocket.all[1]!;
    for (const f of windowListeners.online ?? []) f(); // the browser reports the network back

    // Whichever sockets complete their handshake, in whatever order, only one says hello.
    for (const s of ScriptedSocket.all.slice(1).reverse()) {
      s.open();
      s.receive({ t: "challenge", n: `n${ScriptedSocket.all.indexOf(s)}` });
    }
    await vi.advanceTimersByTimeAsync(0);
    const hellos = ScriptedSocket.all.slice(1).filter((s) => s.sent.some((d) => JSON.parse(d).t === "hello"));
    expect(hellos).toHaveLength(1);
    // Each hello signs its own socket's challenge: a signature is never reused on another socket.
    const n = `n${ScriptedSocket.all.indexOf(hellos[0]!)}`;
    expect(JSON.parse(hellos[0]!.sent[0]!)).toMatchObject({ t: "hello", sig: `sig-over-${n}` });
    // Any other socket was closed by the client in a way the server does not read as leaving.
    for (const s of ScriptedSocket.all.slice(1)) if (s !== hellos[0]) expect(s.closedByClient).toBe(4100);

    hellos[0]!.receive({ t: "welcome", v: 2, id: "AAAAAA", group: "fam", private: false, resumed: true, members: [], limits: {}, version: "1" });
    await vi.advanceTimersByTimeAsync(0);
    expect(conn.status).toBe("online");
    expect(retry === hellos[0] || retry.closedByClient === 4100).toBe(true);
    conn.close();
  } finally {
    vi.useRealTimers();
  }
});
