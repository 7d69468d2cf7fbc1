// A loopback TCP listener that counts the connections it accepts and never answers a byte:
// proof that a client did (or did not) connect, or a server that keeps a client waiting.
import { createServer, type Server, type Socket } from "node:net";

export interface CountingListener {
  port: number;
  connections(): number;
  close(): Promise<void>;
}

/** `hangUp`: close each connection at once instead of holding it open in silence. */
export async function countingListener(opts: { hangUp?: boolean } = {}): Promise<CountingListener> {
  let n = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    n++;
    s.on("error", () => {});
    if (opts.hangUp) s.destroy();
    else sockets.add(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => n,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
