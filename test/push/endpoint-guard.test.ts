// The endpoint rules without sending anything: address ranges, URL syntax, the allow-list, the
// resolved-address check (with injected resolvers) and subscription validation. The ranges that
// must never be connected to, not even by a broken guard in a test, are checked here only.
import { p256 } from "@noble/curves/p256";
import { describe, expect, it } from "vitest";
import { specialRange } from "../../server/push/address-range.ts";
import { addressProblem, checkEndpointUrl, hostAllowed, hostPatternProblem, resolveChecked } from "../../server/push/endpoint-guard.ts";
import { checkSubscription } from "../../server/push/subscription-check.ts";

describe("specialRange", () => {
  it.each([
    ["10.0.0.1", /private/],
    ["172.16.5.4", /private/],
    ["172.31.255.255", /private/],
    ["192.168.1.1", /private/],
    ["127.0.0.1", /loopback/],
    ["127.255.0.9", /loopback/],
    ["169.254.169.254", /link-local/],
    ["100.64.0.1", /carrier-grade NAT/],
    ["100.127.255.254", /carrier-grade NAT/],
    ["0.0.0.0", /unspecified/],
    ["224.0.0.251", /multicast/],
    ["239.1.2.3", /multicast/],
    ["255.255.255.255", /reserved/],
    ["198.18.0.1", /benchmarking/],
    ["192.0.2.10", /documentation/],
    ["::", /unspecified/],
    ["::1", /loopback/],
    ["0:0:0:0:0:0:0:1", /loopback/],
    ["::ffff:127.0.0.1", /IPv4-mapped loopback/],
    ["::ffff:10.1.2.3", /IPv4-mapped private/],
    ["::ffff:a01:203", /IPv4-mapped private/],
    ["64:ff9b::a00:1", /NAT64 private/],
    ["2002:a00:1::1", /6to4 private/],
    ["fd12:3456::1", /unique local/],
    ["fc00::1", /unique local/],
    ["fe80::1", /link-local/],
    ["fe80::1%eth0", /not an IP address/],
    ["fec0::1", /site-local/],
    ["ff02::1", /multicast/],
    ["2001:db8::1", /documentation/],
    ["2001::1", /IETF protocol assignments/],
    ["::7f00:1", /reserved/],
    ["push.example.com", /not an IP address/],
    ["", /not an IP address/],
  ])("%s is %s", (ip, range) => {
    expect(specialRange(ip)).toMatch(range);
  });

  it.each(["142.250.1.1", "17.57.146.5", "100.128.0.1", "172.32.0.1", "11.0.0.1", "2a00:1450:4001:80b::200a", "2001:4860:4860::8888", "::ffff:142.250.1.1", "64:ff9b::8efa:101", "2002:8efa:101::1"])(
    "%s is public",
    (ip) => {
      expect(specialRange(ip)).toBeNull();
    },
  );
});

describe("checkEndpointUrl", () => {
  it("accepts the browsers' push services", () => {
    for (const e of [
      "https://fcm.googleapis.com/fcm/send/dXJ0aGVyZQ:APA91bH",
      "https://web.push.apple.com/QO2PUyNLSy73dR6fFhwch1X8fRjY",
      "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABh",
      "https://wns2-par02p.notify.windows.com/w/?token=BQYAAA",
      "https://fcm.googleapis.com:443/fcm/send/x",
    ]) {
      expect(checkEndpointUrl(e)).toMatchObject({ ok: true, port: 443 });
    }
  });

  it.each([
    ["https://10.0.0.1/push/x", /IP address/],
    ["https://[fe80::1]/push/x", /IP address/],
    ["https://2130706433/x", /IP address/],
    ["http://fcm.googleapis.com/fcm/send/x", /https/],
    ["wss://fcm.googleapis.com/x", /https/],
    ["https://fcm.googleapis.com:8443/x", /port 443/],
    ["https://fcm.googleapis.com./x", /dot/],
    ["https://push.apple.com/x", /not a known push service/],
    ["https://evilfcm.googleapis.com/x", /not a known push service/],
    ["https://fcm.googleapis.com.evil.example/x", /not a known push service/],
    ["https://a@fcm.googleapis.com/x", /user name/],
    ["https://fcm.googleapis.com/x#frag", /fragment/],
    ["not a url", /not a URL/],
    [`https://fcm.googleapis.com/${"a".repeat(2100)}`, /longer than 2048/],
    [42, /must be a URL/],
  ])("refuses %s", (endpoint, why) => {
    const r = checkEndpointUrl(endpoint);
    expect(r.ok).toBe(false);
    expect((r as { reason: string }).reason).toMatch(why);
  });

  it("operator patterns extend the list; a wildcard covers names below it, not the name itself", () => {
    expect(hostAllowed("push.example.org", ["push.example.org"])).toBe(true);
    expect(hostAllowed("a.b.push.example.net", ["*.push.example.net"])).toBe(true);
    expect(hostAllowed("push.example.net", ["*.push.example.net"])).toBe(false);
    expect(hostAllowed("xpush.example.net", ["*.push.example.net"])).toBe(false);
    expect(hostAllowed("web.push.apple.com")).toBe(true);
  });

  it.each([
    ["push.example.org", null],
    ["*.push.example.org", null],
    ["*.com", /two labels/],
    ["localhost", /two labels/],
    ["10.0.0.1", /IP address/],
    ["*.10.0.0.1", /IP address|two labels/],
    ["Push.Example.org", /lowercase/],
    ["push..example.org", /lowercase/],
    ["", /DNS name/],
    [7, /DNS name/],
  ])("host pattern %s", (pattern, problem) => {
    const p = hostPatternProblem(pattern);
    if (problem === null) expect(p).toBeNull();
    else expect(p).toMatch(problem);
  });
});

describe("resolveChecked (injected resolvers, nothing connects)", () => {
  const resolvingTo = (...a: string[]) => ({ resolve: async () => a, hosts: ["push.test"] });

  it.each([
    ["10.0.0.1", /private/],
    ["169.254.169.254", /link-local/],
    ["100.64.0.1", /carrier-grade NAT/],
    ["224.0.0.1", /multicast/],
    ["fd00::1", /unique local/],
    ["fe80::1", /link-local/],
    ["::ffff:10.1.2.3", /IPv4-mapped private/],
  ])("the loopback permission does not open %s", async (address, why) => {
    const r = await resolveChecked("push.test", { ...resolvingTo(address), allowLoopbackForTests: true });
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(why) });
  });

  it("every address is checked, not only the first", async () => {
    expect(await resolveChecked("fcm.googleapis.com", resolvingTo("142.250.1.1", "10.0.0.1"))).toEqual({ ok: false, reason: "fcm.googleapis.com resolves to a private (10.0.0.0/8) address" });
    expect(await resolveChecked("fcm.googleapis.com", resolvingTo("142.250.1.1", "2a00:1450:4001:80b::200a"))).toEqual({ ok: true, addresses: ["142.250.1.1", "2a00:1450:4001:80b::200a"] });
  });

  it("the loopback permission covers only .test names and only loopback", () => {
    const t = { allowLoopbackForTests: true };
    expect(addressProblem("push.test", "127.0.0.1", t)).toBeNull();
    expect(addressProblem("push.test", "::1", t)).toBeNull();
    expect(addressProblem("push.test", "127.0.0.1", {})).toMatch(/loopback/);
    expect(addressProblem("fcm.googleapis.com", "127.0.0.1", t)).toMatch(/loopback/);
    expect(addressProblem("localhost", "127.0.0.1", t)).toMatch(/loopback/);
    expect(addressProblem("push.test.evil.example", "127.0.0.1", t)).toMatch(/loopback/);
  });

  it("an empty answer or a hanging resolver is a failure", async () => {
    expect(await resolveChecked("push.test", resolvingTo())).toEqual({ ok: false, reason: "DNS lookup of push.test gave no address" });
    const r = await resolveChecked("push.test", { resolve: () => new Promise<string[]>(() => {}) }, AbortSignal.timeout(50));
    expect(r).toEqual({ ok: false, reason: "DNS lookup of push.test timed out" });
  });
});

describe("checkSubscription", () => {
  const ua = p256.getPublicKey(p256.utils.randomPrivateKey(), false);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");
  const good = { endpoint: "https://fcm.googleapis.com/fcm/send/abc:def", expirationTime: null, keys: { p256dh: b64(ua), auth: b64(new Uint8Array(16).fill(7)) } };

  it("accepts what a browser hands out, with or without padding", () => {
    const r = checkSubscription(good);
    expect(r.ok).toBe(true);
    expect(r.ok && r.subscription.host).toBe("fcm.googleapis.com");
    expect(checkSubscription({ ...good, keys: { p256dh: Buffer.from(ua).toString("base64url") + "=", auth: good.keys.auth + "==" } }).ok).toBe(true);
  });

  it.each([
    ["no object", null, /object/],
    ["an array", [], /object/],
    ["a bad endpoint", { ...good, endpoint: "https://10.0.0.1/x" }, /IP address/],
    ["no keys", { endpoint: good.endpoint }, /p256dh/],
    ["a compressed point", { ...good, keys: { ...good.keys, p256dh: b64(p256.getPublicKey(p256.utils.randomPrivateKey(), true)) } }, /p256dh/],
    ["a point off the curve", { ...good, keys: { ...good.keys, p256dh: b64(Uint8Array.from(ua, (x, i) => (i === 64 ? x ^ 1 : x))) } }, /not a point on P-256/],
    ["standard base64", { ...good, keys: { ...good.keys, p256dh: Buffer.from(ua).toString("base64").replace(/[-_]/g, "+") + "/" } }, /p256dh/],
    ["a long p256dh", { ...good, keys: { ...good.keys, p256dh: "A".repeat(10_000) } }, /p256dh/],
    ["a 15-byte auth", { ...good, keys: { ...good.keys, auth: b64(new Uint8Array(15)) } }, /auth/],
    ["a 17-byte auth", { ...good, keys: { ...good.keys, auth: b64(new Uint8Array(17)) } }, /auth/],
    ["a non-string auth", { ...good, keys: { ...good.keys, auth: 5 } }, /auth/],
  ])("refuses %s", (_, sub, why) => {
    const r = checkSubscription(sub);
    expect(r.ok).toBe(false);
    expect((r as { reason: string }).reason).toMatch(why);
  });
});
