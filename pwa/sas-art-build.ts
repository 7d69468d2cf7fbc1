// Build step: the 64 Twemoji safety-code pictures (sas-image.ts) turned into shape data
// (SAS_ART_URL in app/sas-image.ts) that the call screen draws as inline SVG (app/sas-art.ts).
//
// Why not <img src="x.svg">: each SVG image is a document of its own, built and painted on the
// main thread — 20–110 ms apiece in Chromium here, exactly when a call is secured and its first
// audio frames are due (app/call-start.ts has the measurements). Inline shapes are part of the
// page's own layout and paint: no extra document.
//
// Only what these pictures use is let through — <svg viewBox>, <g fill>, <path d fill>,
// <circle cx cy r fill>, <ellipse cx cy rx ry fill> — and anything else (a script, an event
// handler, a link, a style, another element) fails the build rather than reach the page. The
// call screen renders the data with attribute bindings only, so no markup is ever parsed there.
import type { SasArt, SasShape } from "./app/sas-image.ts";

const NUMBER = /^-?(\d+\.?\d*|\.\d+)$/;
const COLOUR = /^#[0-9a-fA-F]{3,8}$/;
const PATH = /^[MmLlHhVvCcSsQqTtAaZz0-9.,\s-]+$/;

function attr(el: { getAttribute(n: string): string | null }, name: string, re: RegExp, where: string): string {
  const v = el.getAttribute(name);
  if (v === null || !re.test(v)) throw new Error(`${where}: <…${name}="${v}"> is not a plain ${name}`);
  return v;
}

function optionalFill(el: { getAttribute(n: string): string | null }, where: string): { fill?: string } {
  return el.getAttribute("fill") === null ? {} : { fill: attr(el, "fill", COLOUR, where) };
}

const ALLOWED: Record<string, readonly string[]> = {
  // HTMLRewriter parses as HTML, which lower-cases attribute names.
  svg: ["xmlns", "viewbox"],
  g: ["fill"],
  path: ["d", "fill"],
  circle: ["cx", "cy", "r", "fill"],
  ellipse: ["cx", "cy", "rx", "ry", "fill"],
};

/** The shapes of one Twemoji SVG file; throws on anything outside the allow-list. `where` names it in errors. */
export function sasArtFromSvg(svg: string, where = "svg"): SasArt {
  let viewBox: string | null = null;
  const root: SasShape[] = [];
  const stack: SasShape[][] = [root];
  let problem: string | null = null;
  const rewriter = new HTMLRewriter().on("*", {
    element(el) {
      try {
        const tag = el.tagName.toLowerCase();
        const allowed = ALLOWED[tag];
        if (!allowed) throw new Error(`${where}: <${tag}> is not allowed`);
        for (const [name] of el.attributes) if (!allowed.includes(name.toLowerCase())) throw new Error(`${where}: ${name} on <${tag}> is not allowed`);
        const into = stack[stack.length - 1]!;
        if (tag === "svg") {
          if (viewBox !== null) throw new Error(`${where}: a second <svg>`);
          const vb = el.getAttribute("viewbox") ?? "";
          if (!/^(-?\d+(\.\d+)? ){3}-?\d+(\.\d+)?$/.test(vb)) throw new Error(`${where}: viewBox "${vb}"`);
          viewBox = vb;
        } else if (tag === "g") {
          const g: SasShape = { t: "g", ...optionalFill(el, where), children: [] };
          into.push(g);
          const children = g.children;
          stack.push(children);
          el.onEndTag(() => void stack.pop());
        } else if (tag === "path") {
          into.push({ t: "path", d: attr(el, "d", PATH, where), ...optionalFill(el, where) });
        } else if (tag === "circle") {
          into.push({ t: "circle", cx: attr(el, "cx", NUMBER, where), cy: attr(el, "cy", NUMBER, where), r: attr(el, "r", NUMBER, where), ...optionalFill(el, where) });
        } else {
          into.push({
            t: "ellipse",
            cx: attr(el, "cx", NUMBER, where),
            cy: attr(el, "cy", NUMBER, where),
            rx: attr(el, "rx", NUMBER, where),
            ry: attr(el, "ry", NUMBER, where),
            ...optionalFill(el, where),
          });
        }
      } catch (e) {
        problem ??= (e as Error).message;
      }
    },
    text(t) {
      if (t.text.trim() !== "") problem ??= `${where}: text content "${t.text.trim().slice(0, 20)}" is not allowed`;
    },
    comments(c) {
      c.remove();
    },
  });
  rewriter.transform(svg);
  if (problem) throw new Error(problem);
  if (viewBox === null || stack.length !== 1) throw new Error(`${where}: not one complete <svg>`);
  if (root.length === 0) throw new Error(`${where}: no shapes`);
  return { viewBox, shapes: root };
}
