// Path and query of a request, independent of the Host header. Bun builds req.url from Host:
// with no, an empty or an unparsable Host it is relative ("/api/health"), and `new URL()`
// throws on it; with a short Host ("a") it is "https://a/api/health", where Elysia looks for
// the path with indexOf("/", 11) and finds the wrong slash. So the listener takes the target
// from req.url itself and hands Elysia a request on a fixed, long origin: routing then works
// the same for every Host. Handlers must not read the host from request.url (they do not:
// the Host header is validated separately in host-header.ts).

/** The origin every request is routed on; never sent anywhere, never shown. */
const ROUTING_ORIGIN = "http://voicesrv.routing.invalid";

/** "/path?query" from Bun's req.url, absolute or relative. */
export function requestTarget(url: string): string {
  if (url.startsWith("/")) return url;
  const scheme = url.indexOf("://");
  if (scheme < 0) return "/";
  const slash = url.indexOf("/", scheme + 3);
  return slash < 0 ? "/" : url.slice(slash);
}

export function targetPath(target: string): string {
  const q = target.indexOf("?");
  return q < 0 ? target : target.slice(0, q);
}

/** The same request (method, headers, body) on the routing origin. */
export function routableRequest(req: Request, target: string): Request {
  return new Request(ROUTING_ORIGIN + target, req);
}
