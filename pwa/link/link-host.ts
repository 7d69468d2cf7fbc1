// The WebSockets of the page's Connections, and the media sessions of their calls. Runs in the
// link worker (link-worker.ts) so that a frame's way from the microphone's worklet to the socket,
// and from the socket to the speaker's worklet, never crosses the page's main thread; where no
// worker can be started it runs in the page (link-client.ts), the same code.
//
// Decisions:
// - A "link" is one Connection; it opens a new socket for every reconnect. Media goes over the
//   socket the page last declared online (its hello was welcomed), and binary frames are taken
//   only from that socket: an old socket's late frames belong to a resumed past.
// - Media is real-time: a frame that would sit behind more than MAX_BUFFERED_MEDIA of queued data
//   is dropped (and counted) instead of sent late.
// - The host decides nothing the page decides (who may call, whether a peer's key is trusted):
//   it opens the sockets it is told to and runs a call's media with the keys it is handed.
import type { FramePort } from "../audio/frame-pipeline.ts";
import type { LinkCommand, LinkEvent } from "./link-protocol.ts";
import { MediaSession, wipeMediaKeys } from "./media-session.ts";

const MAX_BUFFERED_MEDIA = 32 * 1024;
/** How often a call's figures go to the page (Call details and the quality bars read them). */
const STATS_EVERY_MS = 250;

type Emit = (ev: LinkEvent, transfer?: Transferable[]) => void;

interface Sock {
  ws: WebSocket;
  link: number;
}

interface Call {
  link: number;
  session: MediaSession | null;
  stopped: boolean;
}

export class LinkHost {
  private readonly sockets = new Map<number, Sock>();
  /** link → the socket its media goes over. */
  private readonly mediaSocket = new Map<number, number>();
  private readonly calls = new Map<number, Call>();
  private statsTimer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly emit: Emit) {}

  /** Never throws: a media command that fails ends that call's media and says so (media-lost). */
  handle(cmd: LinkCommand): void {
    try {
      this.run(cmd);
    } catch (e) {
      if ("call" in cmd && this.calls.has(cmd.call)) {
        this.stopMedia(cmd.call);
        this.emit({ ev: "media-lost", call: cmd.call, message: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  private run(cmd: LinkCommand): void {
    switch (cmd.op) {
      case "open":
        return this.open(cmd.sock, cmd.link, cmd.url);
      case "send": {
        const s = this.sockets.get(cmd.sock);
        if (s?.ws.readyState === WebSocket.OPEN) s.ws.send(cmd.text);
        return;
      }
      case "close": {
        const s = this.sockets.get(cmd.sock);
        if (!s) return;
        this.forget(cmd.sock);
        try {
          s.ws.close(cmd.code, cmd.reason);
        } catch {
          s.ws.close();
        }
        return;
      }
      case "online": {
        const s = this.sockets.get(cmd.sock);
        if (s) this.mediaSocket.set(s.link, cmd.sock);
        return;
      }
      case "media-start":
        return this.startMedia(cmd);
      case "media-keys": {
        const session = this.calls.get(cmd.call)?.session;
        return session ? session.setKeys(cmd.keys, cmd.callHandle, cmd.slot) : wipeMediaKeys(cmd.keys);
      }
      case "media-sending":
        return this.calls.get(cmd.call)?.session?.setSending(cmd.on);
      case "media-muted":
        return this.calls.get(cmd.call)?.session?.setMuted(cmd.on);
      case "media-stop":
        return this.stopMedia(cmd.call);
    }
  }

  private open(sock: number, link: number, url: string): void {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      return this.emit({ ev: "close", sock, code: 1006, reason: "" });
    }
    ws.binaryType = "arraybuffer";
    this.sockets.set(sock, { ws, link });
    ws.onopen = () => this.emit({ ev: "open", sock });
    ws.onmessage = (e) => {
      if (typeof e.data === "string") return this.emit({ ev: "text", sock, data: e.data });
      if (this.mediaSocket.get(link) !== sock) return;
      const frame = new Uint8Array(e.data as ArrayBuffer);
      for (const call of this.calls.values()) if (call.link === link) call.session?.receive(frame);
    };
    ws.onclose = (e) => {
      if (!this.sockets.has(sock)) return;
      this.forget(sock);
      this.emit({ ev: "close", sock, code: e.code, reason: e.reason });
    };
  }

  private forget(sock: number): void {
    const s = this.sockets.get(sock);
    if (!s) return;
    s.ws.onopen = s.ws.onmessage = s.ws.onclose = null;
    this.sockets.delete(sock);
    if (this.mediaSocket.get(s.link) === sock) this.mediaSocket.delete(s.link);
  }

  private sendFrame(link: number, frame: Uint8Array<ArrayBuffer>): boolean {
    const sock = this.mediaSocket.get(link);
    const ws = sock === undefined ? undefined : this.sockets.get(sock)?.ws;
    if (ws?.readyState !== WebSocket.OPEN || ws.bufferedAmount > MAX_BUFFERED_MEDIA) return false;
    ws.send(frame);
    return true;
  }

  private startMedia(cmd: Extract<LinkCommand, { op: "media-start" }>): void {
    const { call: id, link } = cmd;
    const call: Call = { link, session: null, stopped: false };
    this.calls.set(id, call);
    MediaSession.start({
      capture: cmd.capture as FramePort,
      playback: cmd.playback as FramePort,
      codec: cmd.codec,
      paths: cmd.paths,
      sending: cmd.sending,
      sendFrame: (frame) => this.sendFrame(link, frame),
      ...(cmd.tapCapture ? { onCapturedPcm: (pcm: Float32Array, at: number) => this.emit({ ev: "captured", call: id, pcm, at }, [pcm.buffer as ArrayBuffer]) } : {}),
    }).then(
      (session) => {
        if (call.stopped) return session.stop();
        call.session = session;
        this.emit({ ev: "media-ready", call: id });
        this.statsTimer ??= setInterval(() => this.postStats(), STATS_EVERY_MS);
      },
      (e: unknown) => {
        this.calls.delete(id);
        cmd.capture.close();
        cmd.playback.close();
        this.emit({ ev: "media-failed", call: id, message: e instanceof Error ? e.message : String(e) });
      },
    );
  }

  private stopMedia(id: number): void {
    const call = this.calls.get(id);
    if (!call) return;
    call.stopped = true;
    call.session?.stop();
    this.calls.delete(id);
    if (this.calls.size === 0 && this.statsTimer) {
      clearInterval(this.statsTimer);
      this.statsTimer = null;
    }
  }

  private postStats(): void {
    for (const [id, call] of this.calls) if (call.session) this.emit({ ev: "media-stats", call: id, stats: call.session.stats() });
  }
}
