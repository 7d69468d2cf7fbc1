// `systemd-analyze verify` on the installed unit, for doctor. `Documentation=man:…` makes verify
// run man(1) for each page, and on a host without man (minimal images, containers) it fails a
// healthy unit (issue #12, defect 3): --man=no skips that lookup, and on a systemd too old for
// the option, lines about man pages are filtered out. Everything else verify says still counts.
import type { Runner } from "./runner.ts";

export type UnitVerdict = { ok: true } | { ok: false; detail: string };

/** Verify's complaints about man pages only (the page missing, or man itself). */
const MAN_ONLY = /(\bman\b|Documentation=|man page)/i;

export async function verifyUnit(run: Runner, analyze: string, unitPath: string): Promise<UnitVerdict> {
  let r = await run.probe([analyze, "verify", "--man=no", unitPath]);
  if (r && r.code !== 0 && /unrecognized option|unknown option/i.test(r.stderr)) r = await run.probe([analyze, "verify", unitPath]);
  if (!r) return { ok: false, detail: `${analyze} could not be run` };
  if (r.code === 0) return { ok: true };
  const lines = `${r.stderr}\n${r.stdout}`.split("\n").map((l) => l.trim()).filter(Boolean);
  const rest = lines.filter((l) => !MAN_ONLY.test(l));
  if (rest.length === 0) return { ok: true };
  return { ok: false, detail: rest[0]! };
}
