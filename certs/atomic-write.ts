import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, rename, unlink } from "node:fs/promises";
import path from "node:path";

/**
 * Writes `content` so readers see either the old file or the complete new one,
 * even across a crash: temp file in the same directory (same filesystem, so
 * rename is atomic), fsync, chmod before it becomes visible, then rename.
 */
export async function writeFileAtomic(file: string, content: string, mode: number): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    // "wx" refuses to follow a planted symlink at the temp path.
    const handle = await open(tmp, "wx", mode);
    try {
      await handle.writeFile(content, "utf8");
      // The umask may have narrowed the mode; set it exactly before publishing.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** Persists renames in `dir` itself; without this a power cut can undo them. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the data itself is already synced.
  } finally {
    await handle?.close();
  }
}

/** Creates `dir` owner-only if missing; an existing directory's mode is left to the operator. */
export async function ensurePrivateDirectory(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined) await chmod(dir, 0o700);
}
