// Turns catalogue messages into hostile WebSocket traffic. Each generator returns the encoded
// frame(s) and a label (for the report). Structured text mutations keep the connection open
// (the server must answer with an error and carry on); the few framing attacks at the end make
// Bun close the socket (1002/1007/1009), and the fuzzer reconnects.
import { encodeMediaHeader, MEDIA_HEADER_BYTES } from "../../protocol/media-header.ts";
import { encodeClientFrame } from "../helpers/raw-ws.ts";
import { CATALOGUE, type Knowledge, pick, randomBytes, type Rng, validMessage } from "./catalogue.ts";

export interface Shot {
  label: string;
  bytes: Buffer;
  /** The server is expected to close the connection after this. */
  closes: boolean;
}

const text = (s: string) => encodeClientFrame(1, Buffer.from(s, "utf8"));
const PROTO_KEYS = ["__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "__defineGetter__", "__lookupGetter__", "isPrototypeOf"];
const UNKNOWN_TYPES = ["", "PING", "Ping", "hello ", "teleport", "welcome", "error", "__proto__", "constructor", "toString", "pong", "kx\u0000", "call\u202e", "\ud800", "🎉", "x".repeat(5000)];
const WEIRD_STRINGS = ["", " ", "\u0000", "\ud800", "\udfff", "\ud83d", "🎉🎉", "\u202e", "../../../../passwd", "%s%n%x", "${7*7}", "<script>", "\\", '"', "A".repeat(300), "é".repeat(100)];
const HUGE_NUMBERS = ["1e308", "-1e308", "1e999", "-1e999", "9007199254740993", "18446744073709551616", "-0", "0.000000000000000000001", "123456789012345678901234567890", "1E400"];

/** A random JSON value of a random type (raw JSON text), sometimes deeply nested. */
function wrongValue(r: Rng): string {
  switch (Math.floor(r() * 12)) {
    case 0:
      return pick(r, HUGE_NUMBERS);
    case 1:
      return String(Math.floor(r() * 2 ** 32) - 2 ** 31);
    case 2:
      return JSON.stringify(pick(r, WEIRD_STRINGS));
    case 3:
      return pick(r, ["true", "false", "null"]);
    case 4:
      return "[]";
    case 5:
      return "{}";
    case 6:
      return nested(r, 1 + Math.floor(r() * 600));
    case 7:
      return `[${Array.from({ length: 1 + Math.floor(r() * 50) }, () => pick(r, ['"opus"', "1", "null", '"pcmu16"', '""', "[]"])).join(",")}]`;
    case 8:
      return `{${PROTO_KEYS.slice(0, 1 + Math.floor(r() * 4)).map((k) => `"${k}":${pick(r, ["null", "{}", "1", '"x"', '{"t":"hello"}'])}`).join(",")}}`;
    case 9:
      return `"${"\\ud800".repeat(1 + Math.floor(r() * 20))}"`;
    case 10:
      return JSON.stringify("f".repeat(Math.floor(r() * 3000)));
    default:
      return JSON.stringify(Math.floor(r() * 1e6).toString(16));
  }
}

function nested(r: Rng, depth: number): string {
  const arr = r() < 0.5;
  return arr ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

/** Serialises an object whose keys may include __proto__ & co. as real own keys of the JSON text. */
function toJson(entries: [string, string][]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;
}

export function structuredText(k: Knowledge, r: Rng): Shot {
  const spec = pick(r, CATALOGUE);
  const msg = validMessage(spec, k, r);
  let entries: [string, string][] = Object.entries(msg).map(([key, v]) => [key, JSON.stringify(v)]);
  const ops: string[] = [];
  const n = r() < 0.25 ? 0 : 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const op = Math.floor(r() * 9);
    if (op === 0 && entries.length > 1) {
      entries.splice(1 + Math.floor(r() * (entries.length - 1)), 1);
      ops.push("missing-field");
    } else if (op === 1) {
      entries.push([pick(r, [...PROTO_KEYS, "extra", "x".repeat(Math.floor(r() * 4000)), "\u0000", "🎉", "t "]), wrongValue(r)]);
      ops.push("extra-field");
    } else if (op === 2 && entries.length > 1) {
      const i2 = 1 + Math.floor(r() * (entries.length - 1));
      entries[i2] = [entries[i2]![0], wrongValue(r)];
      ops.push("wrong-type");
    } else if (op === 3) {
      entries[0] = ["t", r() < 0.5 ? JSON.stringify(pick(r, UNKNOWN_TYPES)) : wrongValue(r)];
      ops.push("bad-type");
    } else if (op === 4) {
      entries.unshift([pick(r, PROTO_KEYS), pick(r, ['{"t":"hello","v":1}', "null", "[]", '{"isAdmin":true}'])]);
      ops.push("proto-key");
    } else if (op === 5) {
      entries.push(["t", JSON.stringify(pick(r, CATALOGUE).t)]);
      ops.push("duplicate-key");
    } else if (op === 6) {
      entries = entries.filter(([key]) => key !== "t");
      ops.push("no-type");
    } else if (op === 7 && entries.length > 1) {
      const i2 = 1 + Math.floor(r() * (entries.length - 1));
      entries[i2] = [entries[i2]![0], nested(r, 1 + Math.floor(r() * 2000))];
      ops.push("deep-nesting");
    } else {
      entries.push([pick(r, ["v", "to", "callId", "body", "codecs", "resume"]), pick(r, HUGE_NUMBERS)]);
      ops.push("huge-number");
    }
  }
  return { label: `${spec.t}:${ops.join("+") || "valid"}`, bytes: text(toJson(entries)), closes: false };
}

/** Text that is not a message object at all. */
export function malformedText(k: Knowledge, r: Rng): Shot {
  const valid = JSON.stringify(validMessage(pick(r, CATALOGUE), k, r));
  const choices: [string, () => string][] = [
    ["truncated", () => valid.slice(0, Math.floor(r() * valid.length))],
    ["not-object", () => pick(r, ["[]", "null", "1", '"x"', "true", "", " ", "}{", "[{}]", '[{"t":"ping"}]', "NaN", "Infinity", "-"])],
    ["bom", () => "\ufeff" + valid],
    ["trailing", () => valid + pick(r, [" ", "x", "}", ",{}", "\u0000"])],
    ["deep-array", () => nested(r, 1 + Math.floor(r() * 4000))],
    ["too-large", () => JSON.stringify({ t: "kx", callId: "0".repeat(32), body: "b".repeat(8192 + Math.floor(r() * 50_000)) })],
    ["whitespace", () => valid.replace(/:/g, " :\n\t ")],
    ["escaped", () => valid.replace(/"t"/, '"\\u0074"')],
  ];
  const [label, make] = pick(r, choices);
  return { label: `text:${label}`, bytes: text(make()), closes: false };
}

/** Binary frames: every length in turn (`lengthCounter`), with random, foreign and own headers. */
export function binaryFrame(k: Knowledge, r: Rng, lengthCounter: number, foreignHandle: number, maxFrameBytes: number): Shot {
  const cycle = maxFrameBytes + 64;
  const len = r() < 0.01 ? maxFrameBytes + 1 + Math.floor(r() * 40_000) : lengthCounter % (cycle + 1);
  const frame = randomBytes(r, len);
  const kind = pick(r, ["random", "foreign", "foreign", "own", "random-handle", "bad-version"] as const);
  if (len >= MEDIA_HEADER_BYTES && kind !== "random") {
    const handle = kind === "foreign" ? foreignHandle : kind === "own" && k.callHandles.length ? pick(r, k.callHandles) : Math.floor(r() * 2 ** 32);
    frame.set(encodeMediaHeader({ callHandle: handle, epoch: Math.floor(r() * 256), seq: Math.floor(r() * 2 ** 40) }));
    if (kind === "bad-version") frame[0] = pick(r, [0, 2, 0x7f, 0xff]);
  }
  return { label: `binary:${kind}`, bytes: encodeClientFrame(2, frame), closes: false };
}

/** A valid message split into a text frame and continuation frames. */
export function fragmented(k: Knowledge, r: Rng): Shot {
  const body = Buffer.from(JSON.stringify(validMessage(pick(r, CATALOGUE), k, r)));
  const parts: Buffer[] = [];
  let off = 0;
  while (off < body.length) {
    const n = 1 + Math.floor(r() * Math.max(1, body.length - off));
    const last = off + n >= body.length;
    parts.push(encodeClientFrame(off === 0 ? 1 : 0, body.subarray(off, off + n), last));
    off += n;
  }
  return { label: "text:fragmented", bytes: Buffer.concat(parts), closes: false };
}

/** Framing attacks Bun answers by closing the socket. Rare: each costs a reconnect. */
export function framingAttack(_k: Knowledge, r: Rng): Shot {
  switch (Math.floor(r() * 5)) {
    case 0:
      return { label: "frame:invalid-utf8", bytes: encodeClientFrame(1, Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xc0, 0x80, 0x22, 0x7d])), closes: true };
    case 1:
      return { label: "frame:over-64k", bytes: encodeClientFrame(r() < 0.5 ? 1 : 2, new Uint8Array(64 * 1024 + 1 + Math.floor(r() * 4096))), closes: true };
    case 2:
      return { label: "frame:reserved-opcode", bytes: encodeClientFrame(pick(r, [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]), randomBytes(r, Math.floor(r() * 20))), closes: true };
    case 3: {
      const f = encodeClientFrame(1, Buffer.from('{"t":"ping"}'));
      f[0] = f[0]! | pick(r, [0x40, 0x20, 0x10]);
      return { label: "frame:rsv-bit", bytes: f, closes: true };
    }
    default:
      return { label: "frame:orphan-continuation", bytes: encodeClientFrame(0, Buffer.from("x")), closes: true };
  }
}

/** A WebSocket-level ping (Bun answers with a pong; floods are closed, so these are rare). */
export function wsPing(_k: Knowledge, r: Rng): Shot {
  return { label: "frame:ping", bytes: encodeClientFrame(9, randomBytes(r, Math.floor(r() * 126))), closes: false };
}
