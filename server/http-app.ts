// HTTP routes (Elysia): health, the app shell for /<group>, embedded assets. WebSocket upgrades
// are handled by the listener before requests reach this app (see listener.ts for why).
import { Elysia } from "elysia";
import { isValidGroupName } from "../protocol/group-name.ts";
import { APP_SHELL, serveAsset } from "./assets.ts";

export function createHttpApp(version: string, caCertFile?: string) {
  return new Elysia()
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

function notFound(): Response {
  return new Response("Not found\n", { status: 404, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}
