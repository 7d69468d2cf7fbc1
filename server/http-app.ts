// HTTP routes (Elysia): health, the app shell for /<group>, embedded assets. WebSocket upgrades
// are handled by the listener before requests reach this app (see listener.ts for why).
import { Elysia } from "elysia";
import { base64urlBytes } from "../protocol/base64url.ts";
import { isValidGroupName } from "../protocol/group-name.ts";
import { DEVICE_KEY_BYTES, SIGNATURE_BYTES } from "../protocol/identity-v2.ts";
import { CALL_ID_RE } from "../protocol/messages.ts";
import { APP_SHELL, serveAsset } from "./assets.ts";

/** Signed "Decline" from a ringing notification (hub.declineByPush). */
export type PushDecline = (group: string, callId: string, deviceKey: Uint8Array, sig: Uint8Array) => Promise<boolean>;

const MAX_DECLINE_BODY = 1024;

export function createHttpApp(version: string, caCertFile?: string, decline?: PushDecline) {
  return new Elysia()
    // The service worker's "Decline" on a ringing notification: no socket, so a signed request.
    // Every refusal is the same 404 so the endpoint says nothing about which calls exist.
    .post("/api/push/decline", async ({ request }) => {
      if (!decline) return jsonError(404, "no-such-call");
      // Read at most MAX_DECLINE_BODY bytes whatever Content-Length says (or a chunked body
      // does not say): this is the one route that reads a body, and it needs no login.
      const text = await readCapped(request, MAX_DECLINE_BODY);
      if (text === null) return jsonError(413, "too-large");
      let b: Record<string, unknown>;
      try {
        b = JSON.parse(text);
      } catch {
        return jsonError(400, "bad-json");
      }
      const d = base64urlBytes(b?.d, DEVICE_KEY_BYTES);
      const sig = base64urlBytes(b?.sig, SIGNATURE_BYTES);
      const group = b?.group;
      const callId = b?.callId;
      if (!d || !sig || typeof group !== "string" || !isValidGroupName(group) || typeof callId !== "string" || !CALL_ID_RE.test(callId)) {
        return jsonError(400, "bad-message");
      }
      return (await decline(group, callId, d, sig)) ? new Response(null, { status: 204 }) : jsonError(404, "no-such-call");
    })
    // Private-CA mode (`voicesrv cert ca`): phones download the CA certificate here to trust it
    // once. Only the public certificate exists at this path; the CA key is a separate file.
    .get("/ca.pem", async () => {
      const file = caCertFile ? Bun.file(caCertFile) : null;
      if (!file || !(await file.exists())) return notFound();
      return new Response(file, { headers: { "Content-Type": "application/x-x509-ca-cert", "Content-Disposition": 'attachment; filename="voicesrv-ca.pem"' } });
    })
    // Public, so only what any visitor may know: live counts would tell an outsider when a
    // group is on a call. They are on /metrics (loopback or token; metrics.ts).
    .get("/api/health", () => ({ status: "ok", version }))
    .get("/", () => serveAsset(APP_SHELL)!)
    .get("/*", ({ request }) => {
      const path = new URL(request.url).pathname;
      const asset = serveAsset(path);
      if (asset) return asset;
      if (path.startsWith("/api/") || path.startsWith("/ws/")) return notFound();
      const seg = path.slice(1);
      let name: string | null;
      try {
        name = decodeURIComponent(seg);
      } catch {
        name = null;
      }
      if (name !== null && isValidGroupName(name)) return serveAsset(APP_SHELL)!;
      // Upper case is the same group: a plain normalisation, nothing for the person to decide.
      if (name !== null && isValidGroupName(name.toLowerCase())) return redirect(`/${name.toLowerCase()}`);
      // Anything else (too long, /a/b, an emoji, "My Family!") is NOT quietly turned into some
      // other group: the app shell opens at this address and says what was wrong, offering the
      // cleaned-up name (landing.ts). 404, because no group lives here; the page still renders.
      return appShellNotFound();
    });
}

function redirect(to: string): Response {
  return new Response(null, { status: 301, headers: { Location: to } });
}

function appShellNotFound(): Response {
  const shell = serveAsset(APP_SHELL)!;
  return new Response(shell.body, { status: 404, headers: shell.headers });
}

/** The body as text, or null once it passes `max` bytes (the rest is never read). */
async function readCapped(request: Request, max: number): Promise<string | null> {
  if (Number(request.headers.get("content-length") ?? "0") > max) return null;
  const reader = request.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      void reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function jsonError(status: number, code: string): Response {
  return Response.json({ error: code }, { status, headers: { "Cache-Control": "no-store" } });
}

function notFound(): Response {
  return new Response("Not found\n", { status: 404, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}
