// Headers on every HTTP response. The CSP is strict because the app holds call keys: no
// inline script, no eval, nothing from another origin (UX.md: everything is in the binary).
// 'wasm-unsafe-eval' lets the page compile WebAssembly — the Opus fallback for browsers without
// WebCodecs Opus (pwa/audio/opus-wasm-codec.ts), itself a precached same-origin file — and allows
// nothing else: eval() and new Function() stay blocked (test/browser/opus-wasm-call.test.ts).
import { validHost } from "./host-header.ts";

export function securityHeaders(host: string | null, secure: boolean): Record<string, string> {
  // 'self' covers same-host wss: in CSP3, but older Safari needs the scheme spelled out. The
  // Host is client input: only a well-formed hostname[:port] may appear in the policy.
  const safeHost = validHost(host);
  const ws = safeHost ? ` ${secure ? "wss" : "ws"}://${safeHost}` : "";
  return {
    "Strict-Transport-Security": "max-age=31536000",
    "Content-Security-Policy": [
      "default-src 'self'",
      "script-src 'self' 'wasm-unsafe-eval'",
      "style-src 'self'",
      "img-src 'self' data: blob:",
      "media-src 'self' blob:",
      `connect-src 'self'${ws}`,
      "worker-src 'self'",
      "manifest-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join("; "),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Frame-Options": "DENY",
  };
}

export function withHeaders(res: Response, headers: Record<string, string>): Response {
  for (const [k, v] of Object.entries(headers)) res.headers.set(k, v);
  return res;
}
