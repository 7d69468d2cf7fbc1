import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { TestClient } from "../helpers/ws-client.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const get = (path: string) => fetch(`${server.url}${path}`, { redirect: "manual", tls: { rejectUnauthorized: false } } as any);

describe("HTTP", () => {
  test("health is public and says only status and version — no counts, no group names, no IDs", async () => {
    const a = await TestClient.open(server.wsUrl("secretgroup"));
    const b = await TestClient.open(server.wsUrl("secretgroup"));
    const res = await get("/api/health");
    expect(res.status).toBe(200);
    const text = await res.text();
    const h = JSON.parse(text);
    expect(h).toEqual({ status: "ok", version: expect.any(String) });
    expect(text).not.toContain("secretgroup");
    expect(text).not.toContain(a.id);
    expect(text).not.toContain(b.id);
    a.close();
    b.close();
  });

  test("the app shell is served for / and /<group>", async () => {
    for (const p of ["/", "/work", "/a_b-c", "/" + "x".repeat(20)]) {
      const res = await get(p);
      expect(res.status, p).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(await res.text()).toContain("<!doctype html>");
    }
  });

  test("upper case is normalised by redirect; other bad group addresses open the app, which explains", async () => {
    const res = await get("/Work");
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe("/work");
    // Not silently another group: the app shell at the same address (landing.ts says what was wrong).
    for (const p of ["/My%20Family!", "/" + "a".repeat(25), "/!!!", "/%E2%9C%93", "/%ZZ", "/work/extra"]) {
      const bad = await get(p);
      expect(bad.status, p).toBe(404);
      expect(bad.headers.get("location"), p).toBeNull();
      expect(bad.headers.get("content-type"), p).toContain("text/html");
      expect(await bad.text(), p).toContain("<!doctype html>");
    }
  });

  test("unknown API and WebSocket paths are a plain 404", async () => {
    for (const p of ["/api/nope", "/ws/nope/extra"]) {
      const res = await get(p);
      expect(res.status, p).toBe(404);
      expect(await res.text(), p).not.toContain("<!doctype html>");
    }
  });

  test("security headers on every response", async () => {
    for (const p of ["/", "/work", "/api/health", "/Work", "/work/extra"]) {
      const res = await get(p);
      const h = res.headers;
      expect(h.get("strict-transport-security"), p).toMatch(/max-age=\d{7,}/);
      const csp = h.get("content-security-policy")!;
      expect(csp, p).toContain("default-src 'self'");
      // WebAssembly (the Opus fallback) may compile; script may not be evaluated from strings.
      expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval';");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("'unsafe-eval'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(h.get("x-content-type-options")).toBe("nosniff");
      expect(h.get("referrer-policy")).toBe("no-referrer");
      expect(h.get("permissions-policy")).toContain("microphone=(self)");
    }
  });
});
