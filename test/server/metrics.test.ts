// /api/health is public and says only status and version; the live counts are on /metrics
// (Prometheus text), answered on loopback without a proxy in between, or with the bearer token.
// The exposition is checked by the Prometheus project's own Python parser (Debian:
// python3-prometheus-client) plus the naming rules promtool's linter applies.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { encodeMediaHeader } from "../../protocol/media-header.ts";
import { parsePrometheusText } from "../../cli/ops/health-probe.ts";
import { connectedCall } from "../helpers/calls.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { TestClient } from "../helpers/ws-client.ts";

const TOKEN = "t0ken-for-the-metrics-test-0123456789";
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ metricsToken: TOKEN });
});
afterAll(async () => {
  await server.close();
});

const get = (s: TestServer, path: string, headers: Record<string, string> = {}) => fetch(`${s.url}${path}`, { headers, tls: { rejectUnauthorized: false } } as any);

/** The families the official parser reads from `text`, or its error. */
function officialParse(text: string): { families?: { name: string; type: string; samples: { name: string; labels: Record<string, string>; value: number }[] }[]; error?: string } {
  const script = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
try:
    fams = [{"name": f.name, "type": f.type, "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]} for f in text_string_to_metric_families(sys.stdin.read())]
    print(json.dumps({"families": fams}))
except Exception as e:
    print(json.dumps({"error": repr(e)}))
`;
  const r = Bun.spawnSync(["/usr/bin/python3", "-c", script], { stdin: new TextEncoder().encode(text) });
  expect(r.exitCode, r.stderr.toString()).toBe(0);
  return JSON.parse(r.stdout.toString());
}

describe("/api/health", () => {
  test("says only status and version, whatever is going on", async () => {
    const { a, b } = await connectedCall(server, "healthgroup");
    const res = await get(server, "/api/health");
    expect(res.status).toBe(200);
    const h = await res.json();
    expect(Object.keys(h).sort()).toEqual(["status", "version"]);
    expect(h.status).toBe("ok");
    a.close();
    b.close();
  });
});

describe("/metrics", () => {
  test("loopback: every count, in a format the Prometheus parser accepts and promtool's naming rules allow", async () => {
    const { a, b, handle, callId } = await connectedCall(server, "metricsgroup");
    const extra = await TestClient.open(server.wsUrl("othergroup"));
    const frame = new Uint8Array(64);
    frame.set(encodeMediaHeader({ callHandle: handle, epoch: 0, seq: 1 }));
    for (let i = 0; i < 5; i++) a.ws.send(frame);
    a.ws.send(new Uint8Array(3)); // malformed: dropped and counted
    for (let i = 0; i < 3; i++) a.send({ t: "kx", callId, body: `k${i}` });
    await b.waitFrames(5);
    await b.next("kx");
    await Bun.sleep(50);

    const res = await get(server, "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    const text = await res.text();
    const m = parsePrometheusText(text);
    expect(m.get("voicesrv_connections")).toBe(3);
    expect(m.get("voicesrv_members")).toBe(3);
    expect(m.get("voicesrv_groups")).toBe(2);
    expect(m.get("voicesrv_calls")).toBe(1);
    expect(m.get("voicesrv_media_frames_relayed_total")).toBeGreaterThanOrEqual(5);
    expect(m.get("voicesrv_kx_relayed_total")).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/^voicesrv_media_frames_dropped_total\{reason="malformed"\} [1-9]\d*$/m);
    const expiry = m.get("voicesrv_certificate_expiry_seconds")!;
    expect(expiry).toBeGreaterThan(300 * 86400);
    expect(Math.abs(m.get("voicesrv_certificate_not_after_timestamp_seconds")! - Date.now() / 1000 - expiry)).toBeLessThan(5);
    expect(m.get("voicesrv_uptime_seconds")).toBeGreaterThanOrEqual(0);
    // No group names or member IDs, ever.
    for (const secret of ["metricsgroup", "othergroup", a.id, b.id, callId]) expect(text).not.toContain(secret);

    const parsed = officialParse(text);
    expect(parsed.error).toBeUndefined();
    const families = new Map(parsed.families!.map((f) => [f.name, f]));
    expect(families.get("voicesrv_media_frames_dropped")?.type).toBe("counter");
    expect(families.get("voicesrv_calls")?.type).toBe("gauge");
    expect(new Set(families.get("voicesrv_media_frames_dropped")!.samples.map((s) => s.labels.reason))).toEqual(new Set(["unknown-call", "not-member", "backpressure", "rate-limit", "malformed"]));
    // promtool check metrics' rules: HELP and TYPE for each, counters end in _total, no
    // duplicate series, snake_case names, base units.
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)];
    expect(types.length).toBe(families.size);
    for (const [, name, type] of types) {
      expect(text, name).toMatch(new RegExp(`^# HELP ${name} \\S`, "m"));
      expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
      if (type === "counter") expect(name).toMatch(/_total$/);
      else expect(name).not.toMatch(/_total$/);
      expect(name).not.toMatch(/_(ms|milliseconds|minutes|hours|days|bytes_total_bytes)$/);
    }
    const series = text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.slice(0, l.lastIndexOf(" ")));
    expect(new Set(series).size).toBe(series.length);
    for (const c of [a, b, extra]) c.close();
  });

  test("refused when a proxy forwarded the request, unless it carries the token", async () => {
    const forwarded: Record<string, string>[] = [{ "X-Forwarded-For": "203.0.113.9" }, { "CF-Connecting-IP": "203.0.113.9" }, { Forwarded: "for=203.0.113.9" }, { "X-Real-IP": "203.0.113.9" }];
    for (const h of forwarded) {
      const res = await get(server, "/metrics", h);
      expect(res.status, JSON.stringify(h)).toBe(403);
      expect(await res.text()).not.toContain("voicesrv_");
    }
    expect((await get(server, "/metrics", { "X-Forwarded-For": "203.0.113.9", Authorization: `Bearer ${TOKEN}x` })).status).toBe(403);
    expect((await get(server, "/metrics", { "X-Forwarded-For": "203.0.113.9", Authorization: `Bearer ${TOKEN.slice(0, -1)}` })).status).toBe(403);
    expect((await get(server, "/metrics", { "X-Forwarded-For": "203.0.113.9", Authorization: TOKEN })).status).toBe(403);
    const ok = await get(server, "/metrics", { "X-Forwarded-For": "203.0.113.9", Authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("voicesrv_connections ");
  });

  test("plain-HTTP mode: no certificate metrics; a bad metricsToken is refused at start", async () => {
    const s = await startTestServer({ http: true });
    const text = await (await get(s, "/metrics")).text();
    expect(text).toContain("voicesrv_calls 0");
    expect(text).not.toContain("certificate");
    expect(officialParse(text).error).toBeUndefined();
    await s.close();
    await expect(startTestServer({ metricsToken: "short" })).rejects.toThrow(/metricsToken must be/);
  });
});
