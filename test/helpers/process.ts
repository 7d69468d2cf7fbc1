/** Reads a spawned server's stdout until it logs its listen address; returns the port. */
export async function waitForListening(proc: { stdout: ReadableStream<Uint8Array> }): Promise<number> {
  const reader = proc.stdout.getReader();
  let text = "";
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
    const m = text.match(/listening on https?:\/\/[^\s]+:(\d+)/);
    if (m) {
      reader.releaseLock();
      return Number(m[1]);
    }
  }
  throw new Error(`server did not start: ${text}`);
}
