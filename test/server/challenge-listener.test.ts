// The port-80 ACME listener answers only /.well-known/acme-challenge/<token> from its directory
// and redirects everything else to https on the same host name — never elsewhere, never a file
// outside the directory.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startChallengeListener } from "../../server/challenge-listener.ts";

let root: string;
let server: ReturnType<typeof startChallengeListener>;
let base: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "voicesrv-challenge-"));
  await writeFile(join(root, "secret.json"), "not a token");
  const dir = join(root, "challenges");
  await (await import("node:fs/promises")).mkdir(dir);
  await writeFile(join(dir, "tok_EN-1"), "tok_EN-1.thumbprint\n");
  server = startChallengeListener({ host: "127.0.0.1", port: 0, challengeDir: dir, httpsPort: 22000 });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  server.stop(true);
  await rm(root, { recursive: true, force: true });
});

describe("challenge listener", () => {
  test("serves a pending token's key authorization as text/plain, uncached", async () => {
    const res = await fetch(`${base}/.well-known/acme-challenge/tok_EN-1`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toBe("tok_EN-1.thumbprint");
  });

  test("unknown tokens, traversal attempts and other methods get no file", async () => {
    expect((await fetch(`${base}/.well-known/acme-challenge/unknown`)).status).toBe(404);
    for (const p of ["..%2Fsecret.json", "..%2F..%2Fsecret.json", "%2e%2e%2fsecret.json", "a.b"]) {
      const res = await fetch(`${base}/.well-known/acme-challenge/${p}`, { redirect: "manual" });
      expect(res.status, p).not.toBe(200);
      expect(await res.text()).not.toContain("not a token");
    }
    expect((await fetch(`${base}/.well-known/acme-challenge/tok_EN-1`, { method: "POST" })).status).toBe(405);
  });

  test("everything else redirects to https on the requested host and the server's port", async () => {
    const res = await fetch(`${base}/family?x=1`, { redirect: "manual", headers: { host: "voice.example.org" } });
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe("https://voice.example.org:22000/family?x=1");
    const odd = await fetch(`${base}/`, { redirect: "manual", headers: { host: "evil.example/@x" } });
    expect(odd.status).toBe(400);
  });
});
