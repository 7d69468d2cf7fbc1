// The page's side of the link host: WebSocket-like sockets for the Connection, and media
// sessions for the call controller, run by a LinkHost in the link worker (LINK_WORKER_URL).
//
// Decisions:
// - One worker per page, started with the app; commands wait (a few milliseconds, once) until
//   it says it runs. If it cannot start (a script blocked or missing, no Worker) or cannot start
//   workers itself (the WASM Opus fallback needs one), the same LinkHost runs in the page
//   instead: calls then work as before this worker existed, with the main thread back in the
//   media path.
// - When the page is hidden for good or put in the back/forward cache (pagehide), the worker is
//   ended at once: a frozen worker would keep its socket open, and the server would go on
//   seeing the person online. The browser closes the socket with 1001, which the server treats
//   like the app's own 4100 (resumable). The next socket starts a new worker.
// - In the page, commands and events are structured-cloned exactly as postMessage would, and
//   events are delivered in a later microtask: the two hosts behave alike, and key material
//   handed to the host is a copy the page can wipe.
import type { MediaPorts, RemoteFramePipeline, RemotePipelineSetup, RemotePipelineStarter } from "../audio/call-audio.ts";
import type { MediaKeys } from "../e2ee/key-exchange.ts";
import { LinkHost } from "./link-host.ts";
import { wipeMediaKeys } from "./media-session.ts";
import type { LinkCommand, LinkEvent, MediaStats } from "./link-protocol.ts";

export const LINK_WORKER_URL = "/link-worker.js";
/** A worker that has not said it runs by then never will (a script that hangs, or no error event). */
const READY_TIMEOUT_MS = 5000;
/** A call's media that has not started by then has failed (the WASM codec's own start is bounded by 10 s). */
const MEDIA_START_TIMEOUT_MS = 20_000;

export const SOCKET_CONNECTING = 0;
export const SOCKET_OPEN = 1;
export const SOCKET_CLOSING = 2;
export const SOCKET_CLOSED = 3;

/** The part of a WebSocket the Connection uses; text only (media never reaches the page). */
export interface SocketLike {
  readonly readyState: number;
  onopen: (() => void) | null;
  onmessage: ((ev: { data: string }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

const NO_STATS: MediaStats = { sentFrames: 0, sentBytes: 0, staleDropped: 0, codecRestarts: 0, sent: 0, dropped: 0, beforeKeys: 0, opened: 0, unsent: 0 };

class HostedSocket implements SocketLike {
  readyState = SOCKET_CONNECTING;
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;

  constructor(
    readonly id: number,
    private readonly client: LinkClient,
  ) {}

  send(text: string): void {
    if (this.readyState !== SOCKET_OPEN) throw new Error("socket not open");
    this.client.post({ op: "send", sock: this.id, text });
  }

  close(code = 1000, reason = ""): void {
    if (this.readyState >= SOCKET_CLOSING) return;
    this.readyState = SOCKET_CLOSING;
    this.client.post({ op: "close", sock: this.id, code, reason });
    // The host forgets the socket at once: no close event will come back for it.
    this.client.dropSocket(this.id);
    this.readyState = SOCKET_CLOSED;
  }

  event(ev: LinkEvent): void {
    if (ev.ev === "open") {
      this.readyState = SOCKET_OPEN;
      this.onopen?.();
    } else if (ev.ev === "text") this.onmessage?.({ data: ev.data });
    else if (ev.ev === "close") {
      this.readyState = SOCKET_CLOSED;
      this.client.dropSocket(this.id);
      this.onclose?.({ code: ev.code, reason: ev.reason });
    }
  }
}

/** A call's media session in the host, as the page steers it. */
export class HostedMedia implements RemoteFramePipeline {
  private last: MediaStats = NO_STATS;
  private stopped = false;

  constructor(
    readonly id: number,
    private readonly client: LinkClient,
    private readonly onCapturedPcm?: (pcm: Float32Array, atMs: number) => void,
  ) {}

  /** Called once if the media stops on its own (its host ended with the page, or failed). */
  onLost: ((why: string) => void) | null = null;

  /** The call's media keys (CallKeys.handOff()); the page's copies are wiped once posted. */
  setKeys(keys: MediaKeys, callHandle: number, slot: number): void {
    if (!this.stopped) this.client.post({ op: "media-keys", call: this.id, keys, callHandle, slot });
    wipeMediaKeys(keys);
  }

  setSending(on: boolean): void {
    if (!this.stopped) this.client.post({ op: "media-sending", call: this.id, on });
  }

  setMuted(m: boolean): void {
    if (!this.stopped) this.client.post({ op: "media-muted", call: this.id, on: m });
  }

  stats(): MediaStats {
    return this.last;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.client.post({ op: "media-stop", call: this.id });
    this.client.dropMedia(this.id);
  }

  event(ev: LinkEvent): void {
    if (ev.ev === "media-stats") this.last = ev.stats;
    else if (ev.ev === "captured") this.onCapturedPcm?.(ev.pcm, ev.at);
    else if (ev.ev === "media-lost") this.lost(ev.message);
  }

  lost(why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.client.dropMedia(this.id);
    this.onLost?.(why);
  }
}

/** One Connection's sockets and its calls' media. */
export interface Link {
  open(url: string): SocketLike;
  /** The server welcomed this socket: the link's media goes over it from now on. */
  online(socket: SocketLike): void;
  /** startCallAudio's `remote`: the call's frame pipeline, in the host, on this link. */
  startMedia(onStarted: (media: HostedMedia) => void): RemotePipelineStarter;
  /** Where the host runs: the link worker, or (where it could not start) the page. */
  host(): "worker" | "page" | "starting";
  /** The page is being hidden for good or cached (pagehide), its sockets closed: see LinkClient.suspend(). */
  pageHidden(): void;
}

export class LinkClient {
  private nextId = 1;
  private readonly sockets = new Map<number, HostedSocket>();
  private readonly media = new Map<number, HostedMedia>();
  private readonly pendingMedia = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private worker: Worker | null = null;
  private host: LinkHost | null = null;
  /** Commands posted before the worker said it runs. */
  private queue: { cmd: LinkCommand; transfer: Transferable[] }[] | null = null;
  private workerUrl: string | null = null;
  /** Ended with the page (pagehide); a new one starts with the next socket. */
  private suspended = false;

  /** The app's client: the link worker, or the page itself where no worker can start. */
  static start(url = LINK_WORKER_URL): LinkClient {
    const client = new LinkClient();
    client.workerUrl = url;
    client.startWorker();
    return client;
  }

  private startWorker(): void {
    try {
      const worker = new Worker(this.workerUrl!, { type: "module", name: "voicesrv-link" });
      this.worker = worker;
      this.queue = [];
      worker.onmessage = (e: MessageEvent<LinkEvent | { ev: "ready"; nestedWorkers: boolean }>) => {
        if (worker !== this.worker) return;
        if (e.data.ev !== "ready") return this.onEvent(e.data);
        // No workers inside workers: the WASM Opus fallback could not run in there (link-worker.ts).
        if (!e.data.nestedWorkers) return giveUp();
        this.ready();
      };
      // Before "ready" an error means the script never ran: run the host here instead. Later
      // ones are uncaught errors inside a running worker, which keeps running.
      const giveUp = () => {
        if (worker !== this.worker || this.queue === null) return;
        worker.terminate();
        this.worker = null;
        this.inPage();
      };
      worker.onerror = (e) => {
        if (worker !== this.worker || this.queue === null) return;
        e.preventDefault();
        giveUp();
      };
      setTimeout(giveUp, READY_TIMEOUT_MS);
    } catch {
      this.inPage();
    }
  }

  /**
   * The page is going away or into the back/forward cache: nothing posted to the worker from now
   * on may run, so end it (and with it its sockets) now. Call after closing the sockets.
   */
  suspend(): void {
    if (!this.worker) return;
    this.worker.terminate();
    this.worker = null;
    this.queue = null;
    this.suspended = true;
    this.sockets.clear();
    for (const p of [...this.pendingMedia.values()]) p.reject(new Error("the page was hidden"));
    this.pendingMedia.clear();
    for (const m of [...this.media.values()]) m.lost("the page was hidden");
    this.media.clear();
  }

  /** The host in the page (tests; browsers where the worker cannot start). */
  static inPageOnly(): LinkClient {
    const client = new LinkClient();
    client.inPage();
    return client;
  }

  /** Where the host runs, for Settings' diagnostics and tests. */
  get where(): "worker" | "page" | "starting" {
    return this.host ? "page" : this.queue || this.suspended ? "starting" : "worker";
  }

  link(): Link {
    const link = this.nextId++;
    return {
      open: (url) => {
        const socket = new HostedSocket(this.nextId++, this);
        this.sockets.set(socket.id, socket);
        this.post({ op: "open", sock: socket.id, link, url });
        return socket;
      },
      online: (socket) => {
        if (socket instanceof HostedSocket && this.sockets.get(socket.id) === socket) this.post({ op: "online", sock: socket.id });
      },
      startMedia: (onStarted) => (ports, setup) => this.startMedia(link, ports, setup, onStarted),
      host: () => this.where,
      pageHidden: () => this.suspend(),
    };
  }

  post(cmd: LinkCommand, transfer: Transferable[] = []): void {
    if (this.suspended) {
      // Whatever else is posted now concerns sockets and calls that ended with the old worker.
      if (cmd.op !== "open") return;
      this.suspended = false;
      this.startWorker();
    }
    // A queued command is a copy, as a posted one would be (the page may wipe what it handed over).
    if (this.queue) this.queue.push({ cmd: transfer.length ? cmd : structuredClone(cmd), transfer });
    else if (this.worker) this.worker.postMessage(cmd, transfer);
    else {
      const copy = structuredClone(cmd, { transfer });
      this.host!.handle(copy);
    }
  }

  dropSocket(id: number): void {
    this.sockets.delete(id);
  }

  dropMedia(id: number): void {
    this.media.delete(id);
    this.pendingMedia.delete(id);
  }

  private startMedia(
    link: number,
    ports: MediaPorts,
    setup: RemotePipelineSetup,
    onStarted: (media: HostedMedia) => void,
  ): Promise<RemoteFramePipeline> {
    const id = this.nextId++;
    const media = new HostedMedia(id, this, setup.onCapturedPcm);
    this.media.set(id, media);
    return new Promise<RemoteFramePipeline>((resolve, reject) => {
      const deadline = setTimeout(() => {
        if (!this.pendingMedia.has(id)) return;
        this.post({ op: "media-stop", call: id });
        this.pendingMedia.get(id)?.reject(new Error("the call's media did not start"));
      }, MEDIA_START_TIMEOUT_MS);
      this.pendingMedia.set(id, {
        resolve: () => {
          clearTimeout(deadline);
          this.pendingMedia.delete(id);
          resolve(media);
          try {
            onStarted(media);
          } catch (e) {
            media.lost(e instanceof Error ? e.message : String(e));
          }
        },
        reject: (e) => {
          clearTimeout(deadline);
          this.pendingMedia.delete(id);
          this.media.delete(id);
          reject(e);
        },
      });
      this.post(
        { op: "media-start", call: id, link, capture: ports.capture, playback: ports.playback, codec: setup.codec, paths: setup.paths, sending: setup.sending, tapCapture: !!setup.onCapturedPcm },
        [ports.capture, ports.playback],
      );
    });
  }

  private inPage(): void {
    this.host = new LinkHost((ev, transfer = []) => {
      const copy = structuredClone(ev, { transfer });
      queueMicrotask(() => this.onEvent(copy));
    });
    this.ready();
  }

  /** The host runs (worker or page): what was queued goes to it, in order. */
  private ready(): void {
    const queued = this.queue ?? [];
    this.queue = null;
    for (const { cmd, transfer } of queued) this.post(cmd, transfer);
  }

  private onEvent(ev: LinkEvent): void {
    if ("sock" in ev) return this.sockets.get(ev.sock)?.event(ev);
    if (ev.ev === "media-ready" || ev.ev === "media-failed") {
      const pending = this.pendingMedia.get(ev.call);
      if (ev.ev === "media-ready") pending?.resolve();
      else pending?.reject(new Error(ev.message));
      return;
    }
    this.media.get(ev.call)?.event(ev);
  }
}
