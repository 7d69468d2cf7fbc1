// The least a Bun WebSocket relay can do: no TLS, no hello, no checks, no rate limit — each
// binary message goes to its pair's socket. Its CPU per frame is the floor under voicesrv's
// relay on the same machine (BENCHMARKS.md "What a relayed frame costs").
const peers = new Map<number, { send(m: string | Uint8Array): number }>();
const server = Bun.serve<{ id: number }>({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req, srv) {
    const id = Number(new URL(req.url).searchParams.get("id"));
    return srv.upgrade(req, { data: { id } }) ? undefined : new Response("expected a WebSocket upgrade\n", { status: 400 });
  },
  websocket: {
    perMessageDeflate: false,
    open(ws) {
      peers.set(ws.data.id, ws);
    },
    message(ws, m) {
      peers.get(ws.data.id ^ 1)?.send(m);
    },
  },
});
console.log(`listening on ${server.port}`);
