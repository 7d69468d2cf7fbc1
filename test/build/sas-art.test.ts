// The safety-code pictures' build step (pwa/sas-art-build.ts): every Twemoji picture the table
// names becomes shape data, and nothing but plain shapes can get through to the call screen.
import { describe, expect, test } from "vitest";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { sasArtFromSvg } from "../../pwa/sas-art-build.ts";
import { twemojiFileName } from "../../pwa/app/sas-image.ts";
import { SAS_TABLE } from "../../pwa/e2ee/sas-table.ts";

const twemoji = dirname(createRequire(import.meta.url).resolve("@twemoji/svg/package.json"));
const source = (emoji: string) => readFileSync(join(twemoji, twemojiFileName(emoji)), "utf8");
const count = (svg: string) => (svg.match(/<(path|circle|ellipse)\b/g) ?? []).length;
const flat = (shapes: { t: string; children?: unknown[] }[]): number => shapes.reduce((n, s) => n + (s.t === "g" ? flat(s.children as never) : 1), 0);

describe("safety-code pictures as shape data", () => {
  test("all 64 convert, with every shape of the source and its viewBox", () => {
    for (const s of SAS_TABLE) {
      const svg = source(s.emoji);
      const art = sasArtFromSvg(svg, s.name);
      expect(art.viewBox, s.name).toBe(svg.match(/viewBox="([^"]+)"/)![1]);
      expect(flat(art.shapes), s.name).toBe(count(svg));
    }
  });

  test("a group keeps its fill and its children", () => {
    const art = sasArtFromSvg('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 36 36"><path d="M0 0h1v1z"/><g fill="#3E721D"><circle cx="1" cy="2" r="1"/><ellipse cx="3" cy="4" rx="1" ry=".5"/></g><path fill="#fff" d="M2 2z"/></svg>');
    expect(art).toEqual({
      viewBox: "0 0 36 36",
      shapes: [
        { t: "path", d: "M0 0h1v1z" },
        { t: "g", fill: "#3E721D", children: [{ t: "circle", cx: "1", cy: "2", r: "1" }, { t: "ellipse", cx: "3", cy: "4", rx: "1", ry: ".5" }] },
        { t: "path", d: "M2 2z", fill: "#fff" },
      ],
    });
  });

  const wrap = (inner: string) => `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 36 36">${inner}</svg>`;
  test.each([
    ["a script", wrap('<script>alert(1)</script><path d="M0 0z"/>')],
    ["an event handler", wrap('<path d="M0 0z" onload="alert(1)"/>')],
    ["an event handler on the svg", '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 36 36" onload="alert(1)"><path d="M0 0z"/></svg>'],
    ["a style attribute", wrap('<path d="M0 0z" style="fill:red"/>')],
    ["a style element", wrap('<style>path{fill:red}</style><path d="M0 0z"/>')],
    ["a link", wrap('<a href="https://example.org/"><path d="M0 0z"/></a>')],
    ["a use of another document", wrap('<use href="https://example.org/x.svg#a"/>')],
    ["foreign content", wrap('<foreignObject><div>hi</div></foreignObject>')],
    ["an image", wrap('<image href="https://example.org/x.png"/>')],
    ["a fill that is a URL", wrap('<path d="M0 0z" fill="url(https://example.org/#x)"/>')],
    ["a path that is not path data", wrap('<path d="M0 0z&quot; onload=&quot;x"/>')],
    ["a number that is not a number", wrap('<circle cx="1;x" cy="1" r="1"/>')],
    ["text", wrap('<path d="M0 0z"/>hello')],
    ["a second svg", wrap('<svg viewBox="0 0 1 1"><path d="M0 0z"/></svg>')],
    ["no shapes", wrap("")],
    ["no svg", '<path d="M0 0z"/>'],
  ])("%s fails the build", (_what, svg) => {
    expect(() => sasArtFromSvg(svg, "test.svg")).toThrow(/test\.svg/);
  });
});
