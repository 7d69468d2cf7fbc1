// Codec negotiation: each side advertises supportedCodecs() in the call set-up; the responder's
// choice is chooseCodec(initiatorList, responderList), which both sides can compute identically.
import type { CodecName } from "./codec.ts";
import { opusPaths, type OpusPaths } from "./codec-select.ts";

export const FALLBACK_CODEC: CodecName = "pcmu16";
const KNOWN: readonly CodecName[] = ["opus", "pcmu16"];

/** Codecs this browser can both encode and decode, best first; "pcmu16" always works. Opus is
 *  offered whichever way it runs here (WebCodecs or WebAssembly, codec-select.ts): on the wire
 *  they are the same codec. */
export async function supportedCodecs(paths: Promise<OpusPaths | null> = opusPaths()): Promise<CodecName[]> {
  return (await paths) ? ["opus", "pcmu16"] : ["pcmu16"];
}

/** First of the initiator's codecs the responder also supports; "pcmu16" as the floor.
 *  Lists come off the wire, so unknown names are ignored rather than trusted. */
export function chooseCodec(initiator: readonly string[], responder: readonly string[]): CodecName {
  const theirs = new Set(responder);
  for (const name of initiator) {
    if (theirs.has(name) && (KNOWN as readonly string[]).includes(name)) return name as CodecName;
  }
  return FALLBACK_CODEC;
}
