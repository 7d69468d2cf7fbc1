// What the server logs about connections ("why can't Grandma connect"), the levels and formats an
// operator chooses, and what it must never write: secrets passed by mistake are redacted.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { resolveConfig } from "../../server/config.ts";
import { startServer } from "../../server/index.ts";
import { createLogger, formatLine, type LogLevel } from "../../server/logger.ts";
import { base64urlEncode } from "../../protocol/base64url.ts";
import { groupKeys } from "../../protocol/identity-v2.ts";
import { newGroupSecret } from "../helpers/test-device.ts";
import { TestClient } from "../helpers/ws-client.ts";

const repo = join(import.meta.dirname, "../..");
const bun = join(repo, "node_modules/.bin/bun");
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function loggedServer(extra: Record<string, unknown> = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), "voicesrv-log-"));
  const lines: { level: LogLevel; line: string }[] = [];
  const log = createLogger({ level: "debug", format: "json", write: (line, level) => lines.push({ level, line }) });
  const server = await startServer(resolveConfig([{ host: "127.0.0.1", port: 0, dataDir, ...extra }]), log);
  cleanups.push(async () => {
    await server.stop(1000);
    await rm(dataDir, { recursive: true, force: true });
  });
  const events = () => lines.map((l) => JSON.parse(l.line) as Record<string, unknown>);
  return { server, lines, events, ws: (g: string) => `${server.url.replace(/^http/, "ws")}/ws/${g}` };
}

async function until(pred: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await Bun.sleep(10);
}

describe("connection log lines", () => {
  test("accepted and closed, with group and member ID but no address unless logIps", async () => {
    const s = await loggedServer({ groups: "private" });
    // A private group: the hello carries a join proof and the group's joinKey.
    const secret = newGroupSecret();
    const a = await TestClient.open(s.ws("family"), { secret, create: true });
    a.close();
    await until(() => s.events().some((e) => e.event === "connection closed"));
    const accepted = s.events().find((e) => e.event === "connection accepted")!;
    expect(accepted).toMatchObject({ level: "info", group: "family" });
    expect(accepted.ip).toBeUndefined();
    const closed = s.events().find((e) => e.event === "connection closed")!;
    expect(closed).toMatchObject({ group: "family", member: a.id });
    // Neither the group's joinKey nor the device's public key appears anywhere.
    const all = s.lines.map((l) => l.line).join("\n");
    expect(all).not.toContain(base64urlEncode((await groupKeys(secret)).joinKey));
    expect(all).not.toContain(a.device.d);
  });

  test("refused for a foreign Origin and for the per-IP cap, each with its reason", async () => {
    const s = await loggedServer({ logIps: true, limits: { connectionsPerIp: 1 } });
    const foreign = await TestClient.open(s.ws("family"), { hello: false, headers: { Origin: "https://evil.example" } }).catch((e: Error) => e);
    expect(foreign).toBeInstanceOf(Error);
    const first = await TestClient.open(s.ws("family"));
    cleanups.push(() => first.close());
    const second = await TestClient.open(s.ws("family"), { hello: false }).catch((e: Error) => e);
    expect(second).toBeInstanceOf(Error);
    const refused = s.events().filter((e) => e.event === "connection refused");
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatchObject({ group: "family", origin: "https://evil.example", ip: "127.0.0.1" });
    expect(String(refused[0]!.reason)).toMatch(/^origin not allowed/);
    expect(String(refused[1]!.reason)).toMatch(/^per-IP connection limit \(1\)/);
  });
});

describe("logger", () => {
  test("levels filter, warn and error go to stderr", () => {
    const got: string[] = [];
    const log = createLogger({ level: "warn", write: (line, level) => got.push(`${level}:${line}`) });
    log.debug("d");
    log.info("i");
    log.warn("w", { n: 1 });
    log.error("e");
    expect(got).toHaveLength(2);
    expect(got[0]).toMatch(/^warn:\S+Z warn w n=1$/);
  });

  test("text lines quote values and cannot be split by a newline in a value or event", () => {
    const t = new Date(0);
    expect(formatLine("text", "info", "connection refused", { group: "family", reason: "per-IP limit" }, t)).toBe('1970-01-01T00:00:00.000Z info connection refused group=family reason="per-IP limit"');
    const forged = formatLine("text", "info", "x\n2026-01-01T00:00:00.000Z error forged", { why: "a\nb" }, t);
    expect(forged.split("\n")).toHaveLength(1);
  });

  // Attack: a caller passes secret material by mistake under a telling name.
  test("fields named like keys, tokens, proofs or key-exchange bodies are redacted in both formats", () => {
    const secret = "c2VjcmV0LWtleS1tYXRlcmlhbA";
    const fields = { member: "m1", token: secret, resumeToken: secret, publicKey: secret, proof: secret, kx: secret, kxBody: secret, audio: secret, keyFile: "/var/lib/voicesrv/certs/key.pem", kxRelayed: 3 };
    for (const format of ["text", "json"] as const) {
      const line = formatLine(format, "info", "call set up", fields);
      expect(line).not.toContain(secret);
      expect(line).toContain("m1");
      expect(line).toContain("key.pem");
      expect(line).toContain("[redacted]");
    }
    expect(JSON.parse(formatLine("json", "info", "e", fields)).kxRelayed).toBe(3);
  });
});

describe("serve --log-level / --log-format / VOICESRV_LOG_LEVEL", () => {
  function serve(args: string[], env: Record<string, string> = {}) {
    return Bun.spawnSync([bun, "cli/main.ts", "serve", "--print-config", "--config", "/nonexistent", ...args], { cwd: repo, env: { ...process.env, ...env } });
  }
  test("flags beat the environment, which beats the default", () => {
    expect(JSON.parse(serve([]).stdout.toString())).toMatchObject({ logLevel: "info", logFormat: "text" });
    expect(JSON.parse(serve([], { VOICESRV_LOG_LEVEL: "debug", VOICESRV_LOG_FORMAT: "json" }).stdout.toString())).toMatchObject({ logLevel: "debug", logFormat: "json" });
    expect(JSON.parse(serve(["--log-level", "error"], { VOICESRV_LOG_LEVEL: "debug" }).stdout.toString())).toMatchObject({ logLevel: "error" });
    expect(JSON.parse(serve(["--quiet"]).stdout.toString())).toMatchObject({ logLevel: "warn" });
  });
  test("a bad level is a usage error: one line, exit 2", () => {
    const flag = serve(["--log-level", "loud"]);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr.toString().trim().split("\n")).toHaveLength(1);
    expect(flag.stderr.toString()).toMatch(/^voicesrv: /);
    const env = serve([], { VOICESRV_LOG_LEVEL: "loud" });
    expect(env.exitCode).toBe(2);
    expect(env.stderr.toString()).toMatch(/^voicesrv: logLevel must be one of error, warn, info, debug/);
  });
  test("JSON lines from a real serve, one object a line", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "voicesrv-log-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const p = Bun.spawn([bun, "cli/main.ts", "serve", "--host", "127.0.0.1", "--port", "0", "-d", dataDir, "--config", "/nonexistent", "--log-format", "json"], { cwd: repo, stdout: "pipe", stderr: "pipe" });
    cleanups.push(async () => {
      p.kill("SIGTERM");
      await p.exited;
    });
    const reader = p.stdout.getReader();
    let text = "";
    const end = Date.now() + 15_000;
    while (!/listening on/.test(text) && Date.now() < end) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const objs = text.trim().split("\n").map((l) => JSON.parse(l));
    expect(objs.find((o) => /listening on/.test(o.event))).toMatchObject({ level: "info", event: expect.stringMatching(/listening on https:\/\/127\.0\.0\.1:\d+/), port: expect.any(Number) });
  }, 30_000);
});
