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

  test("group names are normalised by redirect", async () => {
    const cases: [string, string][] = [
      ["/Work", "/work"],
      ["/My%20Family!", "/my-family"],
      ["/" + "a".repeat(25), "/" + "a".repeat(20)],
      ["/!!!", "/"],
      ["/%E2%9C%93", "/"],
      ["/%ZZ", "/"],
    ];
    for (const [from, to] of cases) {
      const res = await get(from);
      expect(res.status, from).toBe(301);
      expect(res.headers.get("location"), from).toBe(to);
    }
  });

  test("unknown nested paths are 404", async () => {
    expect((await get("/work/extra")).status).toBe(404);
    expect((await get("/api/nope")).status).toBe(404);
  });

  test("security headers on every response", async () => {
    for (const p of ["/", "/work", "/api/health", "/Work", "/work/extra"]) {
      const res = await get(p);
      const h = res.headers;
      expect(h.get("strict-transport-security"), p).toMatch(/max-age=\d{7,}/);
      const csp = h.get("content-security-policy")!;
      expect(csp, p).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("unsafe-eval");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(h.get("x-content-type-options")).toBe("nosniff");
      expect(h.get("referrer-policy")).toBe("no-referrer");
      expect(h.get("permissions-policy")).toContain("microphone=(self)");
    }
  });
});
