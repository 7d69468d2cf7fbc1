// The page's side of the link host (pwa/link/link-client.ts) with the host in the page, as on a
// browser whose link worker cannot start: a call's media that fails in the host is reported to
// the page (a call without sound must not look connected), and key material the host or the
// page can no longer use is wiped, not kept.
import { afterEach, describe, expect, test, vi } from "vitest";
import type { MediaKeys } from "../../pwa/e2ee/key-exchange.ts";
import { LinkClient, type HostedMedia } from "../../pwa/link/link-client.ts";
import { LinkHost } from "../../pwa/link/link-host.ts";
import { makePair, randomCallId } from "../e2ee/channel.ts";

const ports: MessagePort[] = [];
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
});

async function realKeys(): Promise<MediaKeys> {
  const p = makePair({ callId: randomCallId() });
  await Promise.all([p.i.start(), p.r.start()]);
  const [ki] = await Promise.all([p.i.done, p.r.done]);
  return ki.handOff();
}

async function startMedia(client: LinkClient): Promise<HostedMedia> {
  const capture = new MessageChannel();
  const playback = new MessageChannel();
  ports.push(capture.port1, playback.port1);
  let started: HostedMedia | null = null;
  await client.link().startMedia((m) => (started = m))({ capture: capture.port2, playback: playback.port2 }, { codec: "pcmu16", paths: null, sending: false });
  expect(started).not.toBeNull();
  return started!;
}

describe("link client, host in the page", () => {
  test("media keys the host cannot use end that call's media, and the page is told", async () => {
    const client = LinkClient.inPageOnly();
    const media = await startMedia(client);
    const lost: string[] = [];
    media.onLost = (why) => lost.push(why);
    const keys = await realKeys();
    // Decrypt keys where encrypt keys belong: the sealer refuses them.
    media.setKeys({ ...keys, seal: { ...keys.seal, keys: keys.open } }, 7, 320);
    await expect.poll(() => lost.length).toBe(1);
    expect(lost[0]).toMatch(/sealer needs epoch-0 encrypt keys/);
    // The page's copies were wiped as they were posted.
    expect([...keys.open.salt].every((b) => b === 0)).toBe(true);
  });

  test("keys for a stopped call, or a call the host does not have, are wiped", async () => {
    const client = LinkClient.inPageOnly();
    const media = await startMedia(client);
    media.stop();
    const keys = await realKeys();
    media.setKeys(keys, 7, 320);
    expect([...keys.seal.keys.salt, ...keys.open.salt].every((b) => b === 0)).toBe(true);

    const host = new LinkHost(() => {});
    const more = await realKeys();
    expect([...more.open.salt].some((b) => b !== 0)).toBe(true);
    host.handle({ op: "media-keys", call: 99, keys: more, callHandle: 7, slot: 320 });
    expect([...more.seal.keys.salt, ...more.open.salt].every((b) => b === 0)).toBe(true);
  });

  test("a media command for nothing, or one that fails, never throws into the page", () => {
    const host = new LinkHost(() => {});
    expect(() => host.handle({ op: "media-sending", call: 5, on: true })).not.toThrow();
    expect(() => host.handle({ op: "send", sock: 3, text: "x" })).not.toThrow();
    expect(() => host.handle({ op: "media-keys", call: 5, keys: null as unknown as MediaKeys, callHandle: 1, slot: 1 })).not.toThrow();
  });
});

describe("link client, starting its worker", () => {
  /** A Worker stand-in whose script answers "ready" as the real one would, with or without nested workers. */
  function fakeWorker(nestedWorkers: boolean, posted: unknown[]) {
    return class {
      onmessage: ((e: { data: unknown }) => void) | null = null;
      onerror: ((e: { preventDefault(): void }) => void) | null = null;
      terminated = false;
      constructor() {
        setTimeout(() => this.onmessage?.({ data: { ev: "ready", nestedWorkers } }), 5);
      }
      postMessage(msg: unknown) {
        posted.push(msg);
      }
      terminate() {
        this.terminated = true;
      }
    };
  }

  /** A WebSocket stand-in for the host in the page: records what was opened. */
  const opened: string[] = [];
  class FakeSocket {
    static OPEN = 1;
    readyState = 0;
    binaryType = "";
    onopen = null;
    onmessage = null;
    onclose = null;
    constructor(url: string) {
      opened.push(url);
    }
    close() {}
  }

  afterEach(() => {
    vi.unstubAllGlobals();
    opened.length = 0;
  });

  test("a worker that can start workers of its own gets the sockets, once it said it runs", async () => {
    const posted: unknown[] = [];
    vi.stubGlobal("Worker", fakeWorker(true, posted));
    vi.stubGlobal("WebSocket", FakeSocket);
    const client = LinkClient.start("/link-worker.js");
    client.link().open("wss://example.test/ws/fam");
    expect(client.where).toBe("starting");
    expect(posted).toEqual([]); // held back until "ready"
    await expect.poll(() => client.where).toBe("worker");
    expect(posted).toEqual([expect.objectContaining({ op: "open", url: "wss://example.test/ws/fam" })]);
    expect(opened).toEqual([]);
  });

  test("a worker without nested workers (no WASM Opus in there) is given up: the host runs in the page, with what was queued", async () => {
    const posted: unknown[] = [];
    vi.stubGlobal("Worker", fakeWorker(false, posted));
    vi.stubGlobal("WebSocket", FakeSocket);
    const client = LinkClient.start("/link-worker.js");
    client.link().open("wss://example.test/ws/fam");
    await expect.poll(() => client.where).toBe("page");
    expect(posted).toEqual([]);
    expect(opened).toEqual(["wss://example.test/ws/fam"]);
  });
});
