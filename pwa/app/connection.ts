// One WebSocket to /ws/<group>, kept alive across network blips and server restarts.
//
// The resume token lives in sessionStorage (per tab, survives a reload) so that a reload or a
// dropped connection comes back with the same ID and, within the server's grace period, the
// same connected call. Reconnects back off so a dead server is not hammered; the countdown is
// exposed so the UI can say "Retrying in 5 s…" honestly.
import { PROTOCOL_VERSION, parseServerMessage, type ClientMessage, type MemberInfo, type ServerMessage } from "../../protocol/messages.ts";

export type LinkStatus = "connecting" | "online" | "reconnecting" | "offline" | "replaced";

const PING_EVERY_MS = 25_000;
const PONG_DEADLINE_MS = 10_000;
const BACKOFF_MS = [1000, 2000, 5000, 5000, 10_000, 15_000, 30_000];
/** The server keeps a dropped member's ID (and call) this long; past it we are "offline". */
const GRACE_MS = 15_000;
/** Media is real-time: a frame that would sit behind this much queued data is better dropped. */
const MAX_BUFFERED_MEDIA = 32 * 1024;
const CLOSE_REPLACED = 4001;
/**
 * Sent when the page goes away. Browsers close with 1001 on unload, which the server treats as
 * leaving and frees the ID; a reload must instead resume within the grace period, and a page
 * cannot tell a reload from a closed tab, so both keep the ID for the grace period.
 */
const CLOSE_PAGE_HIDDEN = 4100;

export interface ConnectionEvents {
  status: () => void;
  message: (msg: ServerMessage) => void;
  frame: (frame: Uint8Array) => void;
}

export class Connection {
  status: LinkStatus = "connecting";
  /** Seconds until the next attempt while disconnected; null while connected or connecting. */
  retryIn: number | null = null;
  me: string | null = null;
  members = new Map<string, MemberInfo>();
  serverVersion = "";
  droppedMedia = 0;

  private ws: WebSocket | null = null;
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
    frame: new Set(),
  };

  constructor(
    readonly group: string,
    private readonly url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/${group}`,
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
    if (this.ws?.readyState !== WebSocket.OPEN || this.status !== "online") return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  sendFrame(frame: Uint8Array<ArrayBuffer>): boolean {
    const ws = this.ws;
    if (ws?.readyState !== WebSocket.OPEN || this.status !== "online" || ws.bufferedAmount > MAX_BUFFERED_MEDIA) {
      this.droppedMedia++;
      return false;
    }
    ws.send(frame);
    return true;
  }

  /** After "replaced" (the same identity was resumed in another tab): start over as someone new. */
  takeOver(): void {
    sessionStorage.removeItem(this.tokenKey);
    this.stopped = false;
    this.attempt = 0;
    this.open();
  }

  /** Leaving the group: a clean close tells the server to free the ID at once. */
  close(): void {
    this.stopped = true;
    removeEventListener("online", this.onBrowserOnline);
    removeEventListener("offline", this.onBrowserOffline);
    removeEventListener("pagehide", this.onPageHide);
    removeEventListener("pageshow", this.onPageShow);
    this.clearTimers();
    sessionStorage.removeItem(this.tokenKey);
    this.ws?.close(1000, "leaving");
    this.ws = null;
  }

  private get tokenKey(): string {
    return `voicesrv.resume.${this.group}`;
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
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url);
    } catch {
      return this.scheduleRetry();
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return void ws.close(CLOSE_PAGE_HIDDEN, "superseded");
      const resume = sessionStorage.getItem(this.tokenKey);
      ws.send(JSON.stringify(resume ? { t: "hello", v: PROTOCOL_VERSION, resume } : { t: "hello", v: PROTOCOL_VERSION }));
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      if (typeof ev.data !== "string") {
        for (const fn of this.listeners.frame) fn(new Uint8Array(ev.data as ArrayBuffer));
        return;
      }
      const msg = parseServerMessage(ev.data);
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
      this.scheduleRetry();
    };
  }

  private handle(msg: ServerMessage): void {
    switch (msg.t) {
      case "welcome":
        sessionStorage.setItem(this.tokenKey, msg.token);
        this.me = msg.id;
        this.serverVersion = msg.version;
        this.members = new Map(msg.members.map((m) => [m.id, m]));
        this.attempt = 0;
        this.lostAt = null;
        this.retryIn = null;
        this.startPing();
        this.setStatus("online");
        break;
      case "joined":
        this.members.set(msg.member.id, msg.member);
        break;
      case "left":
        this.members.delete(msg.id);
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
        // The server is restarting: reconnect soon instead of waiting for a close that may lag.
        this.attempt = 0;
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
    if (this.ws?.readyState === WebSocket.CONNECTING) return;
    this.attempt = 0;
    this.open();
  };

  private readonly onPageHide = (): void => {
    const ws = this.ws;
    if (!ws || this.stopped) return;
    this.ws = null;
    this.clearTimers();
    ws.close(CLOSE_PAGE_HIDDEN, "page hidden");
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
