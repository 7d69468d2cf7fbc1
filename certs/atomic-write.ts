import { randomBytes } from "node:crypto";
import { chmod, lchown, lstat, mkdir, open, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { CertificateError } from "./errors.ts";

/** Who a file written by root should belong to (the service user), applied to the open file. */
export interface FileOwner {
  uid: number;
  gid: number;
}

/**
 * Writes `content` so readers see either the old file or the complete new one,
 * even across a crash: temp file in the same directory (same filesystem, so
 * rename is atomic), fsync, chmod before it becomes visible, then rename.
 */
export async function writeFileAtomic(file: string, content: string, mode: number, owner?: FileOwner): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    // "wx" refuses to follow a planted symlink at the temp path.
    const handle = await open(tmp, "wx", mode);
    try {
      await handle.writeFile(content, "utf8");
      // The umask may have narrowed the mode; set it exactly before publishing.
      await handle.chmod(mode);
      // fchown on the descriptor we created: a path-based chown could be redirected by a
      // symlink the (less trusted) directory owner plants, e.g. to /etc/shadow.
      if (owner) await handle.chown(owner.uid, owner.gid);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw namingFile(err, file);
  }
}

/**
 * Node's errors for a failed write ("ENOSPC: no space left on device, write") name no file, or
 * only the temp file; the operator needs to know which file could not be written.
 */
function namingFile(err: unknown, file: string): unknown {
  if (!(err instanceof Error) || err.message.includes(file)) return err;
  const e = new Error(`cannot write ${file}: ${err.message}`) as NodeJS.ErrnoException;
  e.code = (err as NodeJS.ErrnoException).code;
  return e;
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

/**
 * Creates `dir` owner-only if missing; an existing directory's mode is left to the operator.
 * Refuses a symlink or non-directory at `dir`: whoever can plant one in the data dir (the
 * service user) could otherwise make root write keys and certificates wherever it points.
 * A directory created here is handed to `owner` (lchown: never through a swapped-in link).
 */
export async function ensurePrivateDirectory(dir: string, owner?: FileOwner): Promise<void> {
  // Checked first too: mkdir on a dangling link would fail with a bare EEXIST.
  await assertRealDirectory(dir, true);
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  await assertRealDirectory(dir);
  if (created !== undefined) {
    await chmod(dir, 0o700);
    if (owner) await lchown(dir, owner.uid, owner.gid);
  }
}

/** Throws unless `dir` itself (not what a link points to) is a directory; `missingOk` allows it to be absent. */
export async function assertRealDirectory(dir: string, missingOk = false): Promise<void> {
  const st = await lstatOrNull(dir);
  if (!st) {
    if (missingOk) return;
    throw new CertificateError("unsafe-path", `${dir} does not exist`);
  }
  if (st.isSymbolicLink()) throw new CertificateError("unsafe-path", `${dir} is a symbolic link: refusing to write certificates through it (replace it with a real directory)`);
  if (!st.isDirectory()) throw new CertificateError("unsafe-path", `${dir} is not a directory: refusing to write certificates into it`);
}

/** Throws if `file` is a symlink: certificate files are replaced, never written through a link. */
export async function refuseSymlink(file: string): Promise<void> {
  if ((await lstatOrNull(file))?.isSymbolicLink()) throw new CertificateError("unsafe-path", `${file} is a symbolic link: refusing to replace it (remove it and run again)`);
}

async function lstatOrNull(p: string) {
  try {
    return await lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}
