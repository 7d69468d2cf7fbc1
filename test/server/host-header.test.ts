// Issue #13, defects 3–5: the Host header is client input. No, an empty or a malformed Host gets
// 400 with the security headers (not a 500 without them) and is logged; it can never inject a
// CSP directive; and routing works for every valid Host, including 1–3 characters.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { validHost } from "../../server/host-header.ts";
import { rawHttp, type RawResponse } from "../helpers/raw-http.ts";
import { capturingLogger, startTestServer, type TestServer } from "../helpers/server.ts";

const log = capturingLogger();
let tls: TestServer;
let plain: TestServer;
beforeAll(async () => {
  tls = await startTestServer({}, log);
  plain = await startTestServer({ http: true });
});
afterAll(async () => {
  await tls.close();
  await plain.close();
});

function expectSecurityHeaders(r: RawResponse, what: string) {
  expect(r.headers.get("content-security-policy"), what).toContain("default-src 'self'");
  expect(r.headers.get("content-security-policy"), what).toContain("frame-ancestors 'none'");
  expect(r.headers.get("strict-transport-security"), what).toMatch(/max-age=\d{7,}/);
  expect(r.headers.get("x-content-type-options"), what).toBe("nosniff");
  expect(r.headers.get("x-frame-options"), what).toBe("DENY");
}

const get = (path: string, hostLine: string | null, version = "1.1") => `GET ${path} HTTP/${version}\r\n${hostLine === null ? "" : `Host: ${hostLine}\r\n`}Connection: close\r\n\r\n`;

describe("bad Host headers", () => {
  const bad: [string, string][] = [
    ["no Host (HTTP/1.0)", get("/api/health", null, "1.0")],
    ["an empty Host", get("/api/health", "")],
    ["Host with a space", get("/api/health", "a b")],
    ["Host: [", get("/api/health", "[")],
    ["Host with a semicolon (CSP injection)", get("/", "x;sandbox")],
    ["Host with a slash", get("/api/health", "a/b")],
    ["Host with userinfo", get("/api/health", "a@evil")],
    ["two Host headers", "GET /api/health HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n"],
    ["a port out of range", get("/api/health", "localhost:70000")],
    ["a WebSocket upgrade with a bad Host", "GET /ws/family HTTP/1.1\r\nHost: x;y\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"],
  ];

  test.each(bad)("%s → 400 with the security headers", async (what, request) => {
    const r = await rawHttp(tls.port, request);
    expect(r.status, what).toBe(400);
    expectSecurityHeaders(r, what);
    expect(r.body).not.toMatch(/at .*\(|\/[a-z]+\/.*\.ts/);
  });

  test("the refusals are logged (rate-limited, with a count)", () => {
    expect(log.lines.some((l) => /^warn refused \d+ request\(s\) with a missing or malformed Host header/.test(l))).toBe(true);
    // Ten refusals above, well within 10 s: one line, not ten.
    expect(log.lines.filter((l) => l.includes("malformed Host header")).length).toBeLessThan(3);
  });

  test("no directive can be injected into the CSP through Host", async () => {
    const r = await rawHttp(tls.port, get("/", "x;sandbox"));
    expect(r.headers.get("content-security-policy")).not.toContain("sandbox");
    // A valid Host is used in connect-src, spelled exactly.
    const ok = await rawHttp(tls.port, get("/", "voice.example.org:22000"));
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-security-policy")).toContain("connect-src 'self' wss://voice.example.org:22000;");
  });
});

describe("routing does not depend on the Host", () => {
  const hosts = ["a", "ab", "abc", "abcd", "a:1", "1.2.3.4", "[::1]", "[::1]:22000", "voice.example.org."];

  for (const [name, srv] of [["https", () => tls], ["http", () => plain]] as const) {
    test.each(hosts)(`${name}: Host %s routes /api/health, /ca.pem, /Work and /work`, async (host) => {
      const s = srv();
      const opts = { tls: name === "https" };
      const health = await rawHttp(s.port, get("/api/health", host), opts);
      expect(health.status, host).toBe(200);
      expect(JSON.parse(health.body)).toMatchObject({ status: "ok" });
      expectSecurityHeaders(health, host);
      // No CA in this data directory: 404, not a redirect to "/capem".
      expect((await rawHttp(s.port, get("/ca.pem", host), opts)).status, host).toBe(404);
      const redirect = await rawHttp(s.port, get("/Work?x=1", host), opts);
      expect(redirect.status, host).toBe(301);
      expect(redirect.headers.get("location"), host).toBe("/work");
      const page = await rawHttp(s.port, get("/work", host), opts);
      expect(page.status, host).toBe(200);
      expect(page.body).toContain("<!doctype html>");
      expect((await rawHttp(s.port, get("/work/extra", host), opts)).status, host).toBe(404);
    });
  }
});

describe("validHost", () => {
  test.each(["a", "localhost", "localhost:22000", "voice.example.org", "voice.example.org.", "my_host.lan", "192.168.1.20:22000", "[::1]", "[fe80::1]:443", "xn--bcher-kva.example"])("accepts %s", (h) => {
    expect(validHost(h)).toBe(h);
  });
  test.each([null, "", " ", "a b", "[", "[::1", "[zz::1]", "x;sandbox", "a,b", "a, b", "a/b", "a?b", "a#b", "a@b", "host:", "host:0", "host:65536", "host:1x", "-a.example", "a-.example", "a..b", ".", "x".repeat(64), "\u00e9.example", "a\r\nb"])("rejects %j", (h) => {
    expect(validHost(h)).toBeNull();
  });
});
