// The safety-code pictures (sas-image.ts), drawn as inline SVG from shape data made at build
// time (../sas-art-build.ts says why not <img>, and what the data may contain). The data for all
// 64 pictures is one precached file (SAS_ART_URL), fetched once per page when a call
// starts; until it is there (or if it cannot be read) the safety code shows its words alone,
// which are what people compare anyway.
import { html, nothing, svg, type SVGTemplateResult } from "lit";
import { SAS_ART_URL, type SasArt, type SasShape } from "./sas-image.ts";

let art: Record<string, SasArt> | null = null;
let loading: Promise<void> | null = null;

/** Fetches the picture data once per page (again after a failure); resolves when it is there or failed. */
export function loadSasArt(): Promise<void> {
  if (art) return Promise.resolve();
  loading ??= fetch(SAS_ART_URL)
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then((data: Record<string, SasArt>) => void (art = data))
    .catch(() => void (loading = null));
  return loading;
}

function shape(s: SasShape): SVGTemplateResult {
  const fill = s.fill ?? nothing;
  switch (s.t) {
    case "path":
      return svg`<path d=${s.d} fill=${fill}></path>`;
    case "circle":
      return svg`<circle cx=${s.cx} cy=${s.cy} r=${s.r} fill=${fill}></circle>`;
    case "ellipse":
      return svg`<ellipse cx=${s.cx} cy=${s.cy} rx=${s.rx} ry=${s.ry} fill=${fill}></ellipse>`;
    case "g":
      return svg`<g fill=${fill}>${s.children.map(shape)}</g>`;
  }
}

/** The picture for a safety-code word as an inline <svg class="emoji">, or nothing while the data is missing. */
export function sasPicture(name: string) {
  const a = art?.[name];
  if (!a) return nothing;
  // <svg> itself is an HTML element (Lit's svg tag is for what goes inside it).
  return html`<svg class="emoji" viewBox=${a.viewBox} aria-hidden="true" focusable="false" data-sas-picture=${name}>${a.shapes.map(shape)}</svg>`;
}
