// What the page and the link host (link-host.ts, normally in the link worker) say to each other.
// The page keeps everything a person sees and decides (the Connection's state, the hello's
// signature, the key exchange); the host keeps what must never wait for the page's main thread:
// the WebSockets, and during a call the media frames between them and the audio worklets.
// Text (signalling) crosses to the page as it is; binary (media) never does.
import type { CodecName } from "../audio/codec.ts";
import type { OpusPaths } from "../audio/codec-select.ts";
import type { FramePipelineStats } from "../audio/frame-pipeline.ts";
import type { MediaKeys } from "../e2ee/key-exchange.ts";

export type LinkCommand =
  | { op: "open"; sock: number; link: number; url: string }
  | { op: "send"; sock: number; text: string }
  | { op: "close"; sock: number; code: number; reason: string }
  /** The server welcomed this socket's hello: the link's media goes over it from now on. */
  | { op: "online"; sock: number }
  | {
      op: "media-start";
      call: number;
      link: number;
      capture: MessagePort;
      playback: MessagePort;
      codec: CodecName;
      paths: OpusPaths | null;
      sending: boolean;
      /** Post every captured frame back to the page (tests and the latency benchmark only). */
      tapCapture: boolean;
    }
  | { op: "media-keys"; call: number; keys: MediaKeys; callHandle: number; slot: number }
  | { op: "media-sending"; call: number; on: boolean }
  | { op: "media-muted"; call: number; on: boolean }
  | { op: "media-stop"; call: number };

/** What a media session counted, on top of the frame pipeline's figures. */
export interface MediaStats extends FramePipelineStats {
  /** Sealed frames handed to the socket. */
  sent: number;
  /** Received frames that did not open, or opened under another call or to a bad payload. */
  dropped: number;
  /** Received before this side had the keys (the peer confirmed first): not counted as dropped. */
  beforeKeys: number;
  /** Received frames that authenticated. */
  opened: number;
  /** Sealed frames not sent: no socket, or too much already queued on it. */
  unsent: number;
}

export type LinkEvent =
  | { ev: "open"; sock: number }
  | { ev: "text"; sock: number; data: string }
  | { ev: "close"; sock: number; code: number; reason: string }
  | { ev: "media-ready"; call: number }
  | { ev: "media-failed"; call: number; message: string }
  /** A running media session stopped on its own (a command it could not carry out). */
  | { ev: "media-lost"; call: number; message: string }
  | { ev: "media-stats"; call: number; stats: MediaStats }
  | { ev: "captured"; call: number; pcm: Float32Array; at: number };
