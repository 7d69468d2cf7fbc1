// `voicesrv doctor`: each finding says what to fix, and a real problem exits non-zero.
import { chmodSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { cpuHasAes } from "../../cli/commands/doctor.ts";
import { renewCertificate } from "../../cli/ops/cert-ops.ts";
import { generateSelfSigned, writeCertificatePair } from "../../certs/index.ts";

const repo = join(import.meta.dirname, "../..");
const bun = join(repo, "node_modules/.bin/bun");
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function doctor(dataDir: string, extra: string[] = []) {
  const r = Bun.spawnSync([bun, "cli/main.ts", "doctor", "--json", "-d", dataDir, "--config", "/nonexistent", "-H", "127.0.0.1", "-p", "1", ...extra], {
    cwd: repo,
    env: { ...process.env, PATH: "/usr/bin:/bin" },
  });
  return { code: r.exitCode, json: JSON.parse(r.stdout.toString()) as { ok: boolean; checks: { name: string; level: string; detail: string; fix?: string }[] } };
}

describe("voicesrv doctor", () => {
  test("a readable private key is a failure with the chmod that fixes it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "voicesrv-doctor-"));
    dirs.push(dir);
    await renewCertificate(join(dir, "certs"));
    const good = doctor(dir);
    expect(good.json.checks.find((c) => c.name === "certificate")?.level).toBe("ok");
    expect(good.json.checks.find((c) => c.name === "key permissions")?.level).toBe("ok");
    expect(good.json.checks.map((c) => c.name)).toEqual(expect.arrayContaining(["port", "clock", "AES hardware", "firewall", "systemd unit"]));

    chmodSync(join(dir, "certs/key.pem"), 0o644);
    const bad = doctor(dir);
    expect(bad.code).toBe(1);
    const key = bad.json.checks.find((c) => c.name === "key permissions")!;
    expect(key.level).toBe("fail");
    expect(key.fix).toBe(`chmod 600 ${join(dir, "certs/key.pem")}`);
  });

  test("--strict turns a warning (certificate expiring soon) into exit 1; without it, exit 0", async () => {
    const dir = await mkdtemp(join(tmpdir(), "voicesrv-doctor-"));
    dirs.push(dir);
    const short = await generateSelfSigned({ hostnames: ["localhost"], ips: ["127.0.0.1"], days: 10 });
    await writeCertificatePair(join(dir, "certs"), short.certPem, short.keyPem);
    const lax = doctor(dir);
    expect(lax.json.checks.find((c) => c.name === "certificate")?.level).toBe("warn");
    expect(lax.json.checks.some((c) => c.level === "fail")).toBe(false);
    expect(lax.code).toBe(0);
    const strict = doctor(dir, ["--strict"]);
    expect(strict.code).toBe(1);
    expect(strict.json.ok).toBe(false);
  });

  test("push: off without a contact (and nothing probed); on, in a network with no way out, 'no route to the push services'", async () => {
    const dir = await mkdtemp(join(tmpdir(), "voicesrv-doctor-"));
    dirs.push(dir);
    await renewCertificate(join(dir, "certs"));
    const off = doctor(dir).json.checks;
    expect(off.find((c) => c.name === "push")).toMatchObject({ level: "info", detail: expect.stringContaining("ringing closed apps is off"), fix: expect.stringContaining("pushSubject") });
    expect(off.some((c) => c.name === "push services")).toBe(false);

    // A network namespace of its own with only a loopback that is down: the probe cannot leave
    // this machine, whatever the code does (unshare -Urn: root, or an unprivileged user namespace).
    const r = Bun.spawnSync(["unshare", "-Urn", bun, "cli/main.ts", "doctor", "--json", "-d", dir, "--config", "/nonexistent", "-H", "127.0.0.1", "-p", "1"], {
      cwd: repo,
      env: { ...process.env, PATH: "/usr/bin:/bin", VOICESRV_PUSH_SUBJECT: "mailto:ops@example.org" },
    });
    expect(r.stderr.toString()).toBe("");
    const on = (JSON.parse(r.stdout.toString()) as { checks: { name: string; level: string; detail: string }[] }).checks;
    expect(on.find((c) => c.name === "push")).toMatchObject({ level: "ok", detail: expect.stringContaining("contact mailto:ops@example.org (pushSubject)") });
    expect(on.find((c) => c.name === "push services")).toMatchObject({ level: "warn", detail: expect.stringMatching(/^no route to the push services: fcm\.googleapis\.com: /) });
  });

  test("AES support is read from x86 flags and arm64 Features", () => {
    expect(cpuHasAes("processor\t: 0\nflags\t\t: fpu vme sse2 aes avx2\n")).toBe(true);
    expect(cpuHasAes("processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32\n")).toBe(true);
    expect(cpuHasAes("processor\t: 0\nFeatures\t: fp asimd evtstrm crc32 cpuid\n")).toBe(false);
    expect(cpuHasAes("flags\t\t: fpu vme sse2 aesni_fake\n")).toBe(false);
  });
});
