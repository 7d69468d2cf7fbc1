// Read-only view for browser tests: only what the screen already shows (state, the safety
// code's names, the encrypted flag) plus frame counters. Never keys, kx bodies or audio.
import type { CallController } from "./call-controller.ts";
import type { Connection } from "./connection.ts";

export interface TestHook {
  readonly state: string;
  readonly link: string | null;
  /** Where the sockets and a call's media run: "worker" (the link worker) or "page". */
  readonly linkHost: string | null;
  readonly me: string | null;
  readonly sas: string[] | null;
  readonly encrypted: boolean;
  readonly stats: unknown;
  /** What "Call details" shows (codec, delays, loss): numbers only. */
  readonly details: unknown;
}

export function installTestHook(get: () => { conn: Connection | null; calls: CallController | null }): void {
  const hook: TestHook = {
    get state() {
      return get().calls?.view.phase ?? "idle";
    },
    get link() {
      return get().conn?.status ?? null;
    },
    get linkHost() {
      return get().conn?.link.host() ?? null;
    },
    get me() {
      return get().conn?.me ?? null;
    },
    get sas() {
      return get().calls?.view.sas?.map((s) => s.name) ?? null;
    },
    get encrypted() {
      return get().calls?.view.encrypted ?? false;
    },
    get stats() {
      const v = get().calls?.view;
      return v ? { ...v.stats, quality: v.quality } : null;
    },
    get details() {
      return get().calls?.view.details ?? null;
    },
  };
  Object.defineProperty(window, "__voicesrv", { value: Object.freeze(hook), configurable: false });
}
