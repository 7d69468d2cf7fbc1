// One WebSocket to /ws/<group>, kept alive across network blips and server restarts.
//
// Identity is the device key (IDENTITY.md §2): every socket answers the server's challenge with
// a signed hello, so a reload, a network change or a server restart comes back as the same
// member and, within the server's grace period, with the same connected call. Reconnects back
// off so a dead server is not hammered; the countdown is exposed so the UI can say "Retrying in
// 5 s…" honestly.
//
// The socket itself lives in the link host (pwa/link/), normally the link worker: this class
// sees only text (signalling); a call's media frames go between the socket and the audio
// worklets there, without crossing the page's main thread.
import { LinkClient, SOCKET_CONNECTING, SOCKET_OPEN, type Link, type SocketLike } from "../link/link-client.ts";
import { parseServerMessage, type ClientMessage, type ErrorCode, type MemberInfo, type ServerMessage } from "../../protocol/messages.ts";

export type LinkStatus = "connecting" | "online" | "reconnecting" | "offline" | "replaced" | "refused";

/** Makes the signed hello for a socket's challenge `n` (the device key never enters this file). */
export type HelloSigner = (n: string) => Promise<ClientMessage>;

/** A join the server refused for good: retrying the same hello cannot succeed. */
export interface Refusal {
  code: ErrorCode | "removed-by-operator" | "group-deleted";
  message: string;
}

/** Error codes of a hello that mean "stop retrying" (anything else is retried with backoff). */
const FINAL_REFUSALS = new Set<string>(["upgrade-required", "bad-name", "not-invited", "id-taken", "removed", "group-exists", "too-many-groups", "group-full", "bad-signature"]);

const PING_EVERY_MS = 25_000;
const PONG_DEADLINE_MS = 10_000;
const BACKOFF_MS = [1000, 2000, 5000, 5000, 10_000, 15_000, 30_000];
/** The server keeps a dropped member's ID (and call) this long; past it we are "offline". */
const GRACE_MS = 15_000;
const CLOSE_REPLACED = 4001;
const CLOSE_REFUSED = 4002;
const CLOSE_GROUP_FULL = 4003;
/**
 * Sent when the page goes away. Browsers close with 1001 on unload, which the server treats as
 * leaving and frees the ID; a reload must instead resume within the grace period, and a page
 * cannot tell a reload from a closed tab, so both keep the ID for the grace period.
 */
const CLOSE_PAGE_HIDDEN = 4100;

export interface ConnectionEvents {
  status: () => void;
  message: (msg: ServerMessage) => void;
}

export class Connection {
  status: LinkStatus = "connecting";
  /** Seconds until the next attempt while disconnected; null while connected or connecting. */
  retryIn: number | null = null;
  me: string | null = null;
  /** The roster: everyone in the group but this device, online or not. */
  members = new Map<string, MemberInfo>();
  /** The group is private (joined with an invite secret). */
  isPrivate = false;
  refusal: Refusal | null = null;
  serverVersion = "";
  /** The server's VAPID key when it can ring closed apps (issue #9), else null. */
  pushKey: string | null = null;
  /** This socket's challenge, for a signed leave. */
  private challenge = "";

  private ws: SocketLike | null = null;
  private attempt = 0;
  private lostAt: number | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private countdown: ReturnType<typeof setInterval> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private readonly listeners: { [K in keyof ConnectionEvents]: Set<ConnectionEvents[K]> } = {
    status: new Set(),
    message: new Set(),
  };

  constructor(
    readonly group: string,
    private readonly signHello: HelloSigner,
    private readonly url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/${group}`,
    /** Where the sockets live; the app passes its link worker's (main.ts). */
    readonly link: Link = LinkClient.inPageOnly().link(),
  ) {
    addEventListener("online", this.onBrowserOnline);
    addEventListener("offline", this.onBrowserOffline);
    addEventListener("pagehide", this.onPageHide);
    addEventListener("pageshow", this.onPageShow);
    this.open();
  }

  on<K extends keyof ConnectionEvents>(event: K, fn: ConnectionEvents[K]): () => void {
    this.listeners[event].add(fn);
    return () => this.listeners[event].delete(fn);
  }

  get online(): boolean {
    return this.status === "online";
  }

  send(msg: ClientMessage): boolean {
    if (this.ws?.readyState !== SOCKET_OPEN || this.status !== "online") return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** After "replaced" (this device opened the group in another tab): take it back here. */
  takeOver(): void {
    this.stopped = false;
    this.attempt = 0;
    this.refusal = null;
    this.open();
  }

  /** A signed leave (IDENTITY.md §4): this device is removed from the group's roster. */
  async leaveGroup(sign: (n: string) => Promise<ClientMessage>): Promise<boolean> {
    if (!this.online || !this.challenge) return false;
    return this.send(await sign(this.challenge));
  }

  /** Leaving the group: a clean close tells the server to free the ID at once. */
  close(): void {
    this.stopped = true;
    removeEventListener("online", this.onBrowserOnline);
    removeEventListener("offline", this.onBrowserOffline);
    removeEventListener("pagehide", this.onPageHide);
    removeEventListener("pageshow", this.onPageShow);
    this.clearTimers();
    this.ws?.close(1000, "leaving");
    this.ws = null;
  }

  private open(): void {
    this.clearTimers();
    // Two sockets would both resume the same identity, and the server keeps the later one: the
    // live socket would then be closed as "replaced" by our own orphan.
    const old = this.ws;
    if (old) {
      this.ws = null;
      old.onopen = old.onmessage = old.onclose = null;
      old.close(CLOSE_PAGE_HIDDEN, "superseded");
    }
    if (this.status !== "reconnecting" && this.status !== "offline") this.setStatus("connecting");
    let ws: SocketLike;
    try {
      ws = this.link.open(this.url);
    } catch {
      return this.scheduleRetry();
    }
    this.ws = ws;
    ws.onopen = () => {
      // The server speaks first (its challenge); nothing to send yet.
      if (ws !== this.ws) return void ws.close(CLOSE_PAGE_HIDDEN, "superseded");
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      const msg = parseServerMessage(ev.data);
      if (msg?.t === "challenge") return void this.answerChallenge(ws, msg.n);
      if (msg) this.handle(msg);
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.stopPing();
      if (this.stopped) return;
      if (ev.code === CLOSE_REPLACED) {
        this.stopped = true;
        return this.setStatus("replaced");
      }
      if (this.refusal || ev.code === CLOSE_REFUSED || ev.code === CLOSE_GROUP_FULL) {
        this.stopped = true;
        this.refusal ??= { code: "not-invited", message: "The server refused to let this device join." };
        return this.setStatus("refused");
      }
      this.scheduleRetry();
    };
  }

  private async answerChallenge(ws: SocketLike, n: string): Promise<void> {
    let hello: ClientMessage;
    try {
      hello = await this.signHello(n);
    } catch {
      // No key storage (e.g. a browser that refuses IndexedDB): nothing to retry with.
      this.refusal = { code: "bad-signature", message: "This browser can't keep this app's key. Try another browser, or leave private browsing." };
      return void ws.close(1000, "no identity");
    }
    if (ws !== this.ws || ws.readyState !== SOCKET_OPEN) return;
    this.challenge = n;
    ws.send(JSON.stringify(hello));
  }

  private handle(msg: ServerMessage): void {
    switch (msg.t) {
      case "welcome":
        this.me = msg.id;
        this.serverVersion = msg.version;
        this.pushKey = msg.push?.key ?? null;
        this.isPrivate = msg.private;
        this.refusal = null;
        this.members = new Map(msg.members.filter((m) => m.id !== msg.id).map((m) => [m.id, m]));
        this.attempt = 0;
        this.lostAt = null;
        this.retryIn = null;
        if (this.ws) this.link.online(this.ws);
        this.startPing();
        this.setStatus("online");
        break;
      case "member":
        if (msg.member.id !== this.me) this.members.set(msg.member.id, msg.member);
        break;
      case "removed":
        this.members.delete(msg.id);
        break;
      case "error":
        if (msg.ref === "hello" && FINAL_REFUSALS.has(msg.code)) this.refusal = { code: msg.code, message: msg.message };
        break;
      case "status": {
        const m = this.members.get(msg.id);
        if (m) m.status = msg.status;
        break;
      }
      case "pong":
        if (this.pongTimer) clearTimeout(this.pongTimer);
        this.pongTimer = null;
        break;
      case "bye":
        if (msg.reason === "removed") this.refusal = { code: "removed-by-operator", message: "You were removed from this group." };
        else if (msg.reason === "group-deleted") this.refusal = { code: "group-deleted", message: "This group was deleted by the server's operator." };
        // The server is restarting: reconnect soon instead of waiting for a close that may lag.
        else if (msg.reason === "shutdown") this.attempt = 0;
        break;
    }
    for (const fn of this.listeners.message) fn(msg);
  }

  private scheduleRetry(): void {
    this.lostAt ??= Date.now();
    const beyondGrace = Date.now() - this.lostAt > GRACE_MS;
    this.setStatus(!navigator.onLine || beyondGrace ? "offline" : "reconnecting");
    if (!navigator.onLine) {
      this.retryIn = null;
      this.emitStatus();
      return;
    }
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)]!;
    this.attempt++;
    const due = Date.now() + delay;
    this.retryIn = Math.ceil(delay / 1000);
    this.emitStatus();
    this.countdown = setInterval(() => {
      this.retryIn = Math.max(1, Math.ceil((due - Date.now()) / 1000));
      this.emitStatus();
    }, 1000);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private startPing(): void {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      if (!this.send({ t: "ping" })) return;
      this.pongTimer ??= setTimeout(() => {
        // No pong: the socket is dead without having noticed (common after a network switch).
        this.pongTimer = null;
        this.ws?.close(CLOSE_PAGE_HIDDEN, "no pong");
        if (this.ws) {
          const dead = this.ws;
          this.ws = null;
          dead.onclose = null;
          this.stopPing();
          this.scheduleRetry();
        }
      }, PONG_DEADLINE_MS);
    }, PING_EVERY_MS);
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pingTimer = null;
    this.pongTimer = null;
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.countdown) clearInterval(this.countdown);
    this.retryTimer = null;
    this.countdown = null;
    this.stopPing();
  }

  private readonly onBrowserOnline = (): void => {
    if (this.stopped || this.status === "online" || this.status === "connecting") return;
    // A retry already under way would be doubled (see open()); it reports back soon enough.
    if (this.ws?.readyState === SOCKET_CONNECTING) return;
    this.attempt = 0;
    this.open();
  };

  private readonly onPageHide = (): void => {
    const ws = this.ws;
    if (!ws || this.stopped) return;
    this.ws = null;
    this.clearTimers();
    ws.close(CLOSE_PAGE_HIDDEN, "page hidden");
    this.link.pageHidden();
  };

  /** Back from the back/forward cache: the socket was closed on the way in. */
  private readonly onPageShow = (e: PageTransitionEvent): void => {
    if (e.persisted && !this.stopped && !this.ws) {
      this.attempt = 0;
      this.open();
    }
  };

  private readonly onBrowserOffline = (): void => {
    if (this.status === "online") return; // the socket's own close will follow if it is really down
    this.setStatus("offline");
  };

  private setStatus(s: LinkStatus): void {
    if (s !== "reconnecting" && s !== "offline") this.retryIn = null;
    if (this.status === s) return;
    this.status = s;
    this.emitStatus();
  }

  private emitStatus(): void {
    for (const fn of this.listeners.status) fn();
  }
}
