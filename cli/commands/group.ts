// `voicesrv group …`: the operator's view of the roster (IDENTITY.md §3–§4), working on the data
// directory of a running server or a stopped one. The running server notices changes within a
// second (server/index.ts watches the database) and applies removals and deletions live.
//
// Only the operator and the people with the link ever hold a private group's secret G: this
// command makes G, stores only joinKey, and prints the link once. It is not kept anywhere.
import type { Command } from "commander";
import { base64urlEncode } from "../../protocol/base64url.ts";
import { isValidGroupName } from "../../protocol/group-name.ts";
import { GROUP_SECRET_BYTES, groupKeys } from "../../protocol/identity-v2.ts";
import { isMemberId } from "../../protocol/member-id.ts";
import { OPERATOR } from "../../server/group-policy.ts";
import { openRoster } from "../../server/roster/open-roster.ts";
import type { RosterStore } from "../../server/roster/roster-store.ts";
import { CliError } from "../cli-error.ts";
import { addConfigFlags, configFor, type ConfigFlags } from "../ops/config-flags.ts";
import { becomeDataDirOwner } from "../ops/data-dir-owner.ts";
import { readFileSync } from "node:fs";
import { inspectCertificate, type CertInfo } from "../../certs/index.ts";
import { openUrls } from "../ops/lan-urls.ts";
import { printJson } from "../ops/output.ts";
import { terminalQr } from "../ops/terminal-qr.ts";

interface GroupFlags extends ConfigFlags {
  json?: boolean;
  open?: boolean;
  url?: string;
  qr?: boolean;
}

const help = (example: string) => `\nExample:\n  ${example}`;

function withRoster<T>(flags: ConfigFlags, fn: (r: RosterStore, dataDir: string) => T, opts: { create?: boolean } = {}): T {
  const { dataDir } = configFor(flags);
  becomeDataDirOwner(dataDir);
  let roster: RosterStore;
  try {
    roster = openRoster(dataDir, { mustExist: !opts.create });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  try {
    return fn(roster, dataDir);
  } finally {
    roster.close();
  }
}

function groupName(raw: string): string {
  if (!isValidGroupName(raw)) throw new CliError(`"${raw.slice(0, 40)}" is not a group name: lower-case letters, digits, - and _, at most 20 characters`, 2);
  return raw;
}

function baseUrl(flags: GroupFlags): string {
  if (flags.url) {
    let u: URL;
    try {
      u = new URL(flags.url);
    } catch {
      throw new CliError(`--url must be an address such as https://voice.example.org, got "${flags.url}"`, 2);
    }
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new CliError("--url must start with https://", 2);
    return u.origin;
  }
  // The first address the server's certificate covers, as install and serve print them.
  const c = configFor(flags);
  if (c.http) throw new CliError("behind a tunnel or proxy only you know the public address: give it with --url https://voice.example.org", 2);
  let cert: CertInfo;
  try {
    cert = inspectCertificate(readFileSync(c.certFile, "utf8"));
  } catch {
    throw new CliError(`no certificate at ${c.certFile} to tell which address phones open: give it with --url https://your.host:${c.port}`, 2);
  }
  const urls = openUrls(c.host, c.port, cert);
  const first = urls.covered[0];
  if (!first) throw new CliError(`the certificate covers none of this machine's addresses: give the address phones open with --url`, 2);
  return first;
}

export function registerGroup(program: Command): void {
  const group = program
    .command("group")
    .description("create private groups and see or change who belongs to each group")
    .addHelpText("after", help("sudo voicesrv group create oak-family"));

  addConfigFlags(
    group
      .command("create <name>")
      .description("create a private group and print its invite link (and a QR code to scan)")
      .option("--open", "an open group instead: anyone who knows the name may join (for `groups: operator` servers)")
      .option("--url <base>", "the address people open, e.g. https://voice.example.org:22000 (default: this machine's)")
      .option("--no-qr", "do not print the QR code")
      .option("--json", "print JSON")
      .addHelpText("after", help("voicesrv group create oak-family --url https://voice.example.org:22000")),
  ).action(async (raw: string, flags: GroupFlags) => {
    const name = groupName(raw);
    const secret = flags.open ? null : crypto.getRandomValues(new Uint8Array(GROUP_SECRET_BYTES));
    const joinKey = secret ? (await groupKeys(secret)).joinKey : null;
    const base = baseUrl(flags);
    const created = withRoster(flags, (r) => r.createGroup({ name, kind: secret ? "private" : "open", joinKey, createdBy: OPERATOR, createdAt: Date.now() }), { create: true });
    if (!created) throw new CliError(`a group named "${name}" exists already (voicesrv group list)`);
    const link = `${base}/${name}${secret ? `#${base64urlEncode(secret)}` : ""}`;
    if (flags.json) return printJson({ group: name, kind: secret ? "private" : "open", link });
    console.log(`created ${secret ? "private" : "open"} group ${name}`);
    console.log(`invite link: ${link}`);
    if (secret) console.log("The link is the key: anyone who opens it can join. It is shown only now — send it to the people who belong.");
    if (flags.qr !== false) console.log("\n" + terminalQr(link));
  });

  addConfigFlags(
    group.command("list").description("every group, with its kind and number of members").option("--json", "print JSON").addHelpText("after", help("voicesrv group list --json")),
  ).action((flags: GroupFlags) => {
    const groups = withRoster(flags, (r) => r.groups());
    const rows = groups.map((g) => ({ group: g.name, kind: g.kind, members: g.members, createdBy: g.createdBy, createdAt: new Date(g.createdAt).toISOString() }));
    if (flags.json) return printJson(rows);
    if (rows.length === 0) return console.log("no groups yet");
    for (const r of rows) console.log(`${r.group.padEnd(21)} ${r.kind.padEnd(8)} ${String(r.members).padStart(4)} member${r.members === 1 ? "" : "s"}   created ${r.createdAt.slice(0, 10)} by ${r.createdBy}`);
  });

  addConfigFlags(
    group.command("members <name>").description("who belongs to a group, and when each was last seen").option("--json", "print JSON").addHelpText("after", help("voicesrv group members oak-family")),
  ).action((raw: string, flags: GroupFlags) => {
    const name = groupName(raw);
    const members = withRoster(flags, (r) => {
      if (!r.group(name)) throw new CliError(`no group named "${name}" (voicesrv group list)`);
      return r.members(name);
    });
    const rows = members.map((m) => ({ id: m.id, name: m.name, firstSeen: new Date(m.firstSeen).toISOString(), lastSeen: new Date(m.lastSeen).toISOString() }));
    if (flags.json) return printJson(rows);
    if (rows.length === 0) return console.log(`nobody has joined ${name} yet`);
    for (const r of rows) console.log(`${r.id}  ${r.name.padEnd(33)} last seen ${r.lastSeen.replace("T", " ").slice(0, 16)} UTC`);
  });

  addConfigFlags(
    group
      .command("remove <name> <member>")
      .description("remove a member (by ID) from a group and block that device from joining it again")
      .addHelpText(
        "after",
        "\nThe person can still join again from another device if they have the invite link. To keep\nsomeone out for good, create a new private group and send new invites to everyone else.\n" + help("voicesrv group remove oak-family 7X8M5C"),
      ),
  ).action((raw: string, member: string, flags: GroupFlags) => {
    const name = groupName(raw);
    const id = member.toUpperCase();
    if (!isMemberId(id)) throw new CliError(`"${member.slice(0, 20)}" is not a member ID (6 characters, see voicesrv group members ${name})`, 2);
    withRoster(flags, (r) => {
      if (!r.group(name)) throw new CliError(`no group named "${name}" (voicesrv group list)`);
      if (!r.removeMember(name, id, true)) throw new CliError(`${id} is not a member of ${name} (voicesrv group members ${name})`);
    });
    console.log(`removed ${id} from ${name}; that device can no longer join it`);
    console.log("Whoever still has the invite link can join again with another device: for a clean cut, create a new group.");
  });

  addConfigFlags(
    group.command("delete <name>").description("delete a group and its member list (people in it are disconnected)").addHelpText("after", help("voicesrv group delete oak-family")),
  ).action((raw: string, flags: GroupFlags) => {
    const name = groupName(raw);
    const deleted = withRoster(flags, (r) => r.deleteGroup(name));
    if (!deleted) throw new CliError(`no group named "${name}" (voicesrv group list)`);
    console.log(`deleted ${name}`);
  });
}
