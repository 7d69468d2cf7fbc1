// The VAPID key file (created once, 0600, never overwritten, repaired when readable by others,
// refused when unusable) and the VAPID subject (never localhost), on real files.
import { chmod, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, configFromEnv, resolveConfig } from "../../server/config.ts";
import { loadOrCreateVapidKeys, readVapidPublicKey, vapidSubject, VAPID_FILE, VapidKeyError } from "../../server/push/index.ts";
import { parseSubject } from "../../server/push/vapid-subject.ts";
import { vapidAuthorization } from "../../server/push/vapid-token.ts";
import { setUpPush } from "../../server/push-setup.ts";
import { verifyVapidAuthorization } from "../helpers/push-service.ts";
import { capturingLogger } from "../helpers/server.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "voicesrv-vapid-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadOrCreateVapidKeys", () => {
  it("creates vapid.json 0600 on the first start and returns the same key afterwards", async () => {
    const first = await loadOrCreateVapidKeys(dir);
    expect(first.created).toBe(true);
    expect(first.publicKey.length).toBe(65);
    expect(first.publicKey[0]).toBe(4);
    expect(Buffer.from(first.publicKey).toString("base64url")).toBe(first.publicKeyB64url);
    expect((await stat(join(dir, VAPID_FILE))).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateVapidKeys(dir);
    expect(again.created).toBe(false);
    expect(again.publicKeyB64url).toBe(first.publicKeyB64url);
    expect(await readVapidPublicKey(dir)).toBe(first.publicKeyB64url);
    // Either instance signs tokens the other's public key verifies.
    const now = Date.now();
    const header = await vapidAuthorization(again, new URL("https://web.push.apple.com/abc"), "mailto:ops@example.org", now);
    expect(verifyVapidAuthorization(header, { origin: "https://web.push.apple.com", nowSeconds: Math.floor(now / 1000), key: first.publicKeyB64url }).ok).toBe(true);
    // No temp files are left behind.
    expect(await readdir(dir)).toEqual([VAPID_FILE]);
  });

  it("creates the data directory owner-only when it is missing", async () => {
    const nested = join(dir, "data");
    await loadOrCreateVapidKeys(nested);
    expect((await stat(nested)).mode & 0o777).toBe(0o700);
  });

  it("two starts at once end with one key", async () => {
    const [a, b] = await Promise.all([loadOrCreateVapidKeys(dir), loadOrCreateVapidKeys(dir)]);
    expect(a.publicKeyB64url).toBe(b.publicKeyB64url);
    expect(await readVapidPublicKey(dir)).toBe(a.publicKeyB64url);
  });

  it("narrows a group- or world-readable file to 0600 and says what it was", async () => {
    const first = await loadOrCreateVapidKeys(dir);
    await chmod(join(dir, VAPID_FILE), 0o644);
    const again = await loadOrCreateVapidKeys(dir);
    expect(again.repairedMode).toBe(0o644);
    expect(again.publicKeyB64url).toBe(first.publicKeyB64url);
    expect((await stat(join(dir, VAPID_FILE))).mode & 0o777).toBe(0o600);
    expect((await loadOrCreateVapidKeys(dir)).repairedMode).toBeUndefined();
  });

  it("the server's start-up narrows it too and warns the operator", async () => {
    await loadOrCreateVapidKeys(dir);
    await chmod(join(dir, VAPID_FILE), 0o640);
    const log = capturingLogger();
    const push = await setUpPush(resolveConfig([{ dataDir: dir, pushSubject: "mailto:ops@example.org" }]), log);
    expect("off" in push).toBe(false);
    expect(log.lines).toEqual([expect.stringMatching(/^warn the Web Push \(VAPID\) key file was readable by others; narrowed it to 0600 .*"mode":"640"/)]);
    expect((await stat(join(dir, VAPID_FILE))).mode & 0o777).toBe(0o600);
  });

  it("refuses a symlink at vapid.json", async () => {
    const elsewhere = join(dir, "elsewhere.json");
    await writeFile(elsewhere, "{}");
    await symlink(elsewhere, join(dir, VAPID_FILE));
    await expect(loadOrCreateVapidKeys(dir)).rejects.toThrow(/symbolic link/);
  });

  it.each([
    ["not JSON", "garbage", /not JSON/],
    ["a short public key", JSON.stringify({ publicKey: "BAAA", privateKey: Buffer.alloc(32, 1).toString("base64url") }), /publicKey/],
    ["halves of two different key pairs", "MISMATCH", /does not belong/],
    ["a zero private key", "ZERO", /not a valid P-256 scalar/],
  ])("refuses %s and leaves the file as it was", async (_, content, why) => {
    const a = await loadOrCreateVapidKeys(dir);
    const file = join(dir, VAPID_FILE);
    let text = content;
    if (content === "MISMATCH") {
      const other = join(dir, "other");
      await loadOrCreateVapidKeys(other);
      const b = JSON.parse(await readFile(join(other, VAPID_FILE), "utf8"));
      text = JSON.stringify({ publicKey: a.publicKeyB64url, privateKey: b.privateKey });
    } else if (content === "ZERO") {
      text = JSON.stringify({ publicKey: a.publicKeyB64url, privateKey: Buffer.alloc(32).toString("base64url") });
    }
    await writeFile(file, text, { mode: 0o600 });
    const err = await loadOrCreateVapidKeys(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VapidKeyError);
    expect((err as Error).message).toMatch(why);
    expect((err as Error).message).toMatch(/move it away to make a new key pair/);
    expect(await readFile(file, "utf8")).toBe(text);
  });

  it("a data directory that cannot be made is a clear error naming the file", async () => {
    await writeFile(join(dir, "afile"), "");
    await expect(loadOrCreateVapidKeys(join(dir, "afile", "data"))).rejects.toThrow(/^cannot write .*afile\/data\/vapid\.json: .*ENOTDIR/);
  });
});

describe("vapidSubject", () => {
  it.each([
    [{ pushSubject: "mailto:ops@example.org" }, "mailto:ops@example.org", "pushSubject"],
    [{ pushSubject: "ops@example.org" }, "mailto:ops@example.org", "pushSubject"],
    [{ pushSubject: "https://voice.example.org/" }, "https://voice.example.org", "pushSubject"],
    [{ pushSubject: "https://voice.example.org/contact" }, "https://voice.example.org/contact", "pushSubject"],
    [{ acmeEmail: "you@example.net", acmeDomain: "voice.example.org" }, "mailto:you@example.net", "ACME e-mail"],
    [{ acmeDomain: "voice.example.org" }, "https://voice.example.org", "ACME domain"],
  ])("%j gives %s", (src, subject, source) => {
    expect(vapidSubject(src)).toEqual({ ok: true, subject, source });
  });

  it.each([
    ["mailto:me@localhost", /local name/],
    ["https://localhost", /local name/],
    ["https://localhost:22000", /local name/],
    ["https://voicebox.local", /local name/],
    ["https://box.home.arpa", /local name/],
    ["mailto:root@voicebox", /not a public DNS name/],
    ["https://192.168.1.10", /IP address/],
    ["https://[::1]", /IP address/],
    ["http://voice.example.org", /mailto: address or an https: URL/],
    ["tel:+123", /mailto: address or an https: URL/],
    ["not an address", /not an e-mail address/],
    ["", /mailto: address or an https: URL/],
  ])("refuses %s", (value, why) => {
    const r = parseSubject(value);
    expect(r.ok).toBe(false);
    expect((r as { reason: string }).reason).toMatch(why);
  });

  it("an unusable pushSubject is an error, not a fall-through to the ACME address", () => {
    expect(vapidSubject({ pushSubject: "mailto:me@localhost", acmeEmail: "you@example.net" })).toEqual({ ok: false, reason: expect.stringMatching(/^pushSubject: .*local name/) });
  });

  it("a LAN box without any contact gets the reason and what to set", () => {
    expect(vapidSubject({})).toEqual({ ok: false, reason: expect.stringMatching(/set pushSubject to mailto:/) });
    expect(vapidSubject({ acmeDomain: "localhost" })).toEqual({ ok: false, reason: expect.stringMatching(/set pushSubject/) });
  });
});

describe("config", () => {
  it("takes pushHosts and pushSubject from the file layer and the environment", () => {
    const c = resolveConfig([{ dataDir: dir, pushHosts: ["push.example.org", "*.push.example.net"], pushSubject: "mailto:ops@example.org" }]);
    expect(c.pushHosts).toEqual(["push.example.org", "*.push.example.net"]);
    expect(c.pushSubject).toBe("mailto:ops@example.org");
    expect(resolveConfig([{ dataDir: dir }]).pushHosts).toEqual([]);
    const env = configFromEnv({ VOICESRV_PUSH_HOSTS: "push.example.org, *.push.example.net", VOICESRV_PUSH_SUBJECT: "ops@example.org" });
    expect(resolveConfig([{ dataDir: dir }, env])).toMatchObject({ pushHosts: ["push.example.org", "*.push.example.net"], pushSubject: "ops@example.org" });
  });

  it.each([
    [{ pushHosts: ["10.0.0.1"] }, /pushHosts: 10.0.0.1: an IP address/],
    [{ pushHosts: ["*.com"] }, /pushHosts: \*\.com/],
    [{ pushHosts: "push.example.org" }, /pushHosts must be a list/],
    [{ pushSubject: "mailto:me@localhost" }, /pushSubject: .*local name/],
    [{ pushSubject: 5 }, /pushSubject: must be a string/],
  ])("refuses %j", (layer, why) => {
    expect(() => resolveConfig([{ dataDir: dir, ...(layer as object) }])).toThrow(ConfigError);
    expect(() => resolveConfig([{ dataDir: dir, ...(layer as object) }])).toThrow(why);
  });
});
