// pwa/e2ee runs in browsers: WebCrypto only, no Node APIs, and it must never log.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";

const dir = join(import.meta.dirname, "../../pwa/e2ee");
const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));

test("there are e2ee sources to check", () => expect(files.length).toBeGreaterThan(10));

test.each(files)("%s: no console, no Node APIs, no extractable secret keys", (f) => {
  // Comments may mention what is banned ("no Buffer"); code may not.
  const src = readFileSync(join(dir, f), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  expect(src).not.toMatch(/\bconsole\s*\./);
  expect(src).not.toMatch(/\bBuffer\b/);
  expect(src).not.toMatch(/["']node:|\brequire\s*\(|\bprocess\./);
  expect(src).not.toMatch(/\bMath\.random\b/);
  // importKey/generateKey with extractable = true is only allowed for the peer's public point.
  const extractableTrue = [...src.matchAll(/(importKey|generateKey)\([^;]*?,\s*true\s*,/gs)].length;
  expect(extractableTrue).toBe(f === "ecdh.ts" ? 1 : 0);
});
