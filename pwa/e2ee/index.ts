// Public API of the browser-side E2EE (docs/PROTOCOL.md v1, docs/PROTOCOL-NOTES.md).
// The app needs only KeyExchange and what `done` hands out; the rest is exported for the
// UI (SAS table and formatting) and for diagnostics.

export type { Role } from "./role.ts";
export { encodeKxBody, decodeKxBody, MAX_KX_BODY, type KxMessage } from "./kx-message.ts";
export {
  KeyExchange,
  KeyExchangeError,
  DEFAULT_KX_TIMEOUT_MS,
  type CallKeys,
  type KeyExchangeFailure,
  type KeyExchangeOptions,
  type KeyExchangePhase,
} from "./key-exchange.ts";
export { FrameSealer, RATCHET_INTERVAL } from "./frame-sealer.ts";
export { FrameOpener, GRACE_MS, MAX_EPOCH_SKIP, type OpenedFrame, type OpenerStats } from "./frame-opener.ts";
export { REPLAY_WINDOW } from "./replay-window.ts";
export { SAS_TABLE, type SasSymbol } from "./sas-table.ts";
export { sasFromBits, formatSas, type Sas } from "./sas.ts";
