// The roster on disk (IDENTITY.md §4): the operator's CLI against a running server, backups
// while serving, kill -9 in the middle of joins, and migrations from an older schema.
import { Database } from "bun:sqlite";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { base64urlDecode } from "../../protocol/base64url.ts";
import { groupKeys } from "../../protocol/identity-v2.ts";
import { MIGRATIONS, migrate } from "../../server/roster/schema.ts";
import { SqliteRoster } from "../../server/roster/sqlite-roster.ts";
import { waitForListening } from "../helpers/process.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { TestClient } from "../helpers/ws-client.ts";

const MAIN = resolve("cli/main.ts");

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([process.execPath, MAIN, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1", VOICESRV_CONFIG: "/nonexistent.json" } });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

describe("the operator's group commands on a running server", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  test("create prints a link whose fragment joins the private group; members, remove and delete act live", async () => {
    const made = await cli(["group", "create", "oak-family", "--data-dir", server.dataDir, "--url", `https://127.0.0.1:${server.port}`, "--json"]);
    expect(made.code, made.err).toBe(0);
    const { link, kind } = JSON.parse(made.out) as { link: string; kind: string };
    expect(kind).toBe("private");
    const url = new URL(link);
    expect(url.pathname).toBe("/oak-family");
    const G = base64urlDecode(url.hash.slice(1))!;
    expect(G.length).toBe(16);
    // The server holds joinKey, which the link's G derives; never G.
    expect(Buffer.from(server.roster.group("oak-family")!.joinKey!).equals(Buffer.from((await groupKeys(G)).joinKey))).toBe(true);

    const gran = await TestClient.open(server.wsUrl("oak-family"), { secret: G, name: "Grandma" });
    const sam = await TestClient.open(server.wsUrl("oak-family"), { secret: G, name: "Sam" });
    const list = await cli(["group", "members", "oak-family", "--data-dir", server.dataDir, "--json"]);
    expect(JSON.parse(list.out).map((m: { name: string }) => m.name).sort()).toEqual(["Grandma", "Sam"]);
    const groups = JSON.parse((await cli(["group", "list", "--data-dir", server.dataDir, "--json"])).out);
    expect(groups).toContainEqual(expect.objectContaining({ group: "oak-family", kind: "private", members: 2 }));

    const removed = await cli(["group", "remove", "oak-family", sam.id.toLowerCase(), "--data-dir", server.dataDir]);
    expect(removed.code, removed.err).toBe(0);
    expect(removed.out).toContain("create a new group");
    // The running server applies it within its poll interval: Sam is told and disconnected…
    expect(await sam.next("bye", () => true, 5000)).toMatchObject({ reason: "removed" });
    expect((await sam.waitClosed()).code).toBe(4002);
    await gran.next("removed", (m) => m.id === sam.id, 5000);
    // …and that device cannot come back, link or not.
    const again = await TestClient.open(server.wsUrl("oak-family"), { hello: false, device: sam.device });
    await again.sendHello({ secret: G });
    expect((await again.next("error")).code).toBe("removed");

    const deleted = await cli(["group", "delete", "oak-family", "--data-dir", server.dataDir]);
    expect(deleted.code).toBe(0);
    expect(await gran.next("bye", () => true, 5000)).toMatchObject({ reason: "group-deleted" });
    expect(server.roster.group("oak-family")).toBeNull();
  });

  test("mistakes get one readable line and a non-zero exit", async () => {
    for (const [args, code, text] of [
      [["group", "create", "Bad Name!"], 2, "is not a group name"],
      [["group", "members", "nope"], 1, "no group named"],
      [["group", "remove", "nope", "not-an-id"], 2, "is not a member ID"],
      [["group", "create", "x", "--url", "ftp://x"], 2, "--url"],
    ] as const) {
      const r = await cli([...args, "--data-dir", server.dataDir]);
      expect(r.code, r.err).toBe(code);
      expect(r.err.trim().split("\n")).toHaveLength(1);
      expect(r.err).toContain(text);
    }
  });

  test("backup writes a consistent copy while the server serves", async () => {
    const c = await TestClient.open(server.wsUrl("backed-up"), { name: "Kept" });
    const file = join(server.dataDir, "copy.db");
    const r = await cli(["backup", file, "--data-dir", server.dataDir]);
    expect(r.code, r.err).toBe(0);
    const copy = new Database(file, { readonly: true });
    expect(copy.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    expect(copy.query("SELECT name FROM members WHERE group_name = 'backed-up'").all()).toEqual([{ name: "Kept" }]);
    copy.close();
    expect((await cli(["backup", file, "--data-dir", server.dataDir])).code).toBe(2); // never overwrites
    c.close();
  });
});

describe("persistence", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "voicesrv-roster-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function spawnServer(port = 0) {
    const proc = Bun.spawn([process.execPath, MAIN, "serve", "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, VOICESRV_CONFIG: "/nonexistent.json", VOICESRV_JOINS_PER_IP_PER_MINUTE: "100000", VOICESRV_CONNECTIONS_PER_IP: "500", VOICESRV_MEMBERS_PER_GROUP: "500" },
    });
    const p = await waitForListening(proc);
    void proc.stdout.pipeTo(new WritableStream());
    return { proc, port: p };
  }

  test("kill -9 during 100 concurrent joins: after a restart every welcomed member is there and the database is intact", async () => {
    const first = await spawnServer();
    const url = `wss://127.0.0.1:${first.port}/ws/crowd`;
    const welcomed: TestClient[] = [];
    const joins = Array.from({ length: 100 }, (_, i) =>
      TestClient.open(url, { name: `Person ${i}` }).then(
        (c) => void welcomed.push(c),
        () => undefined, // cut off by the kill: fine, as long as nothing half-written remains
      ),
    );
    // Kill while joins are in flight.
    while (welcomed.length < 30) await Bun.sleep(5);
    first.proc.kill(9);
    await Promise.all(joins);
    await first.proc.exited;
    const survivors = welcomed.map((c) => ({ id: c.id, device: c.device }));
    expect(survivors.length).toBeGreaterThanOrEqual(30);

    const db = new Database(join(dataDir, "voicesrv.db"));
    expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    const stored = new Set((db.query("SELECT id FROM members WHERE group_name = 'crowd'").all() as { id: string }[]).map((r) => r.id));
    db.close();
    // A welcome is sent only after the member row is committed (synchronous=FULL).
    for (const s of survivors) expect(stored.has(s.id)).toBe(true);

    const second = await spawnServer(first.port);
    try {
      const back = await TestClient.open(url, { device: survivors[0]!.device });
      expect(back.id).toBe(survivors[0]!.id);
      const w = back.messages.find((m) => m.t === "welcome")!;
      const names = w.t === "welcome" ? w.members.map((m) => m.name) : [];
      expect(names.length).toBeGreaterThanOrEqual(survivors.length - 1);
      back.close();
    } finally {
      second.proc.kill("SIGTERM");
      await second.proc.exited;
    }
  }, 60_000);

  test("a database written by the first schema is migrated at start, keeping its data", async () => {
    const dir = await mkdtemp(join(tmpdir(), "voicesrv-migrate-"));
    const file = join(dir, "voicesrv.db");
    const old = new Database(file, { create: true });
    expect(migrate(old, 1)).toBe(1);
    old.run("INSERT INTO groups VALUES ('old-family', 'open', NULL, 'operator', 1)");
    const now = Date.now();
    old.run(`INSERT INTO members VALUES ('old-family', 'ABCDEF', x'04', 'Grandpa', ${now - 1000}, ${now})`);
    // …and one not seen for over 180 days, which the start-up prune removes.
    old.run(`INSERT INTO members VALUES ('old-family', 'GHJKMN', x'05', 'Gone', 1, ${now - 181 * 86_400_000})`);
    old.close();

    const s = await startTestServer({ dataDir: dir });
    try {
      expect(s.roster.members("old-family").map((m) => m.name)).toEqual(["Grandpa"]);
      expect(s.roster.isBlocked("old-family", new Uint8Array([4]))).toBe(false); // table from migration 2
      const db = new Database(file, { readonly: true });
      expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: MIGRATIONS.length });
      db.close();
    } finally {
      await s.close();
    }
  });

  test("a database from a newer voicesrv is refused with a readable error, untouched", async () => {
    const dir = await mkdtemp(join(tmpdir(), "voicesrv-newer-"));
    const db = new Database(join(dir, "voicesrv.db"), { create: true });
    db.run(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => new SqliteRoster(join(dir, "voicesrv.db"))).toThrow(/newer voicesrv/);
    await expect(startTestServer({ dataDir: dir })).rejects.toThrow(/newer voicesrv/);
    await rm(dir, { recursive: true, force: true });
  });
});
