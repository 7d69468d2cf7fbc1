import { test, expect } from "vitest";
test("bun runtime", async () => {
  expect(typeof Bun.serve).toBe("function");
  const k = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
  expect(k.privateKey.extractable).toBe(false);
});
