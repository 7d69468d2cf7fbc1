// Bundles a TypeScript entry for the browser with Bun.build and serves it on 127.0.0.1 over plain
// HTTP (loopback is a secure context, so getUserMedia, AudioWorklet and WebCodecs all work).
import { resolve } from "node:path";

export interface BundlePageOptions {
  /** TS entry for the page; served as /app.js and loaded by the default HTML. */
  entry: string;
  /** Further entries bundled on their own, by URL path, e.g. {"/audio/capture-worklet.js": ".../capture-worklet.ts"}. */
  extraEntries?: Record<string, string>;
  /** Static files by URL path (served with Bun.file's content type). */
  files?: Record<string, string>;
  /** Replaces the default page. */
  html?: string;
}

export interface BundledPage {
  /** URL of the page ("/"). */
  url: string;
  origin: string;
  close(): Promise<void>;
}

async function bundle(entry: string): Promise<string> {
  const result = await Bun.build({ entrypoints: [resolve(entry)], target: "browser", format: "esm", sourcemap: "inline" });
  if (!result.success) throw new AggregateError(result.logs, `bundling ${entry} failed`);
  return result.outputs[0]!.text();
}

const DEFAULT_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>test</title></head>
<body><script type="module" src="/app.js"></script></body></html>`;

export async function bundlePage(opts: BundlePageOptions): Promise<BundledPage> {
  const scripts = new Map<string, string>([["/app.js", await bundle(opts.entry)]]);
  for (const [path, entry] of Object.entries(opts.extraEntries ?? {})) scripts.set(path, await bundle(entry));
  const html = opts.html ?? DEFAULT_HTML;
  const files = opts.files ?? {};

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      const script = scripts.get(path);
      if (script !== undefined) return new Response(script, { headers: { "content-type": "text/javascript; charset=utf-8" } });
      if (path === "/" || path === "/index.html") return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
      const file = files[path];
      if (file) return new Response(Bun.file(file));
      return new Response("not found", { status: 404 });
    },
  });
  const origin = `http://127.0.0.1:${server.port}`;
  return {
    url: origin + "/",
    origin,
    async close() {
      await server.stop(true);
    },
  };
}
