// SIGTERM on the real CLI process: stop accepting, tell clients, close, exit 0 within 5 s.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, expect, test } from "vitest";
import { waitForListening } from "../helpers/process.ts";
import { TestClient } from "../helpers/ws-client.ts";

const root = resolve(import.meta.dirname, "../..");
let dataDir = "";
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test("SIGTERM tells connected clients, closes them and exits 0 within 5 s", async () => {
  dataDir = await mkdtemp(join(tmpdir(), "voicesrv-term-"));
  const proc = Bun.spawn([process.execPath, "cli/main.ts", "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, VOICESRV_CONFIG: join(dataDir, "none.json") },
  });
  try {
    const port = await waitForListening(proc);
    const url = `wss://127.0.0.1:${port}/ws/term`;
    const a = await TestClient.open(url);
    const b = await TestClient.open(url);
    a.send({ t: "call", to: b.id });
    const inc = await b.next("incoming");
    b.send({ t: "answer", callId: inc.callId });
    await a.next("connected");

    const t0 = performance.now();
    proc.kill("SIGTERM");
    // The call ends as a shutdown, not as "the other person left".
    expect(await a.next("ended")).toMatchObject({ callId: inc.callId, reason: "server-shutdown" });
    expect(await b.next("ended")).toMatchObject({ callId: inc.callId, reason: "server-shutdown" });
    expect(await a.next("bye")).toEqual({ t: "bye", reason: "shutdown" });
    expect(await b.next("bye")).toEqual({ t: "bye", reason: "shutdown" });
    expect((await a.waitClosed()).code).toBe(1001);
    expect((await b.waitClosed()).code).toBe(1001);
    const code = await proc.exited;
    expect(code).toBe(0);
    expect(performance.now() - t0).toBeLessThan(5000);
    // No longer accepting.
    await expect(fetch(`https://127.0.0.1:${port}/api/health`, { tls: { rejectUnauthorized: false } } as any)).rejects.toThrow();
  } finally {
    if (proc.exitCode === null) proc.kill("SIGKILL");
  }
});
