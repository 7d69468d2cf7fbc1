// `cert renew` runs as root from a shell or as the service user from the timer. Files it writes
// as root must end up owned like their directory, or the service could no longer read its key.
import { chown, stat } from "node:fs/promises";

export async function matchDirectoryOwner(dir: string, paths: string[]): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = await stat(dir);
  if (uid === 0 && gid === 0) return;
  for (const p of paths) await chown(p, uid, gid).catch(() => {});
}
