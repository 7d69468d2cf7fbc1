// Where install/uninstall put files: the real / (live), a staging root (--root), or nowhere
// (--dry-run prints each file instead). Paths are always given as they are on the real system.
import { randomBytes } from "node:crypto";
import { closeSync, constants, existsSync, lstatSync, openSync, readdirSync, readSync, realpathSync, rmdirSync, statSync } from "node:fs";
import { chmod, copyFile, mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { writeFileAtomic, type FileOwner } from "../../certs/atomic-write.ts";
import { color } from "./output.ts";
import type { RunMode } from "./runner.ts";

export interface Target {
  readonly mode: RunMode;
  /** The staging root, or "/" */
  readonly root: string;
  /** Maps a system path (/etc/voicesrv/config.json) to where it lives in this target. */
  path(systemPath: string): string;
  exists(systemPath: string): boolean;
  read(systemPath: string): Promise<string | null>;
  /**
   * Writes atomically with an exact mode (and owner, given to the new file's descriptor). `show`
   * prints the content in --dry-run (never for secrets).
   */
  write(systemPath: string, content: string, mode: number, show?: boolean, owner?: FileOwner): Promise<void>;
  /** Copies a file (the binary) into place atomically: a running service keeps its old inode. */
  copy(systemPath: string, source: string, mode: number): Promise<void>;
  mkdir(systemPath: string, mode: number): Promise<boolean>;
  remove(systemPath: string): Promise<boolean>;
  /** Every file or directory written (or in --dry-run: that would be), in order. */
  readonly written: string[];
}

export function createTarget(mode: RunMode, root = "/", echo: (line: string) => void = (l) => console.log(l)): Target {
  const written: string[] = [];
  const path = (p: string) => (root === "/" ? p : join(root, p));
  return {
    mode,
    root,
    written,
    path,
    exists: (p) => existsSync(path(p)),
    async read(p) {
      try {
        return await readFile(path(p), "utf8");
      } catch {
        return null;
      }
    },
    async write(p, content, fileMode, show = false, owner) {
      written.push(p);
      if (mode === "dry-run") {
        echo(`      ${color.dim("would write:")} ${p} (mode ${octal(fileMode)}, ${Buffer.byteLength(content)} bytes)`);
        if (show) for (const line of content.trimEnd().split("\n")) echo(`        | ${line}`);
        return;
      }
      await mkdir(dirname(path(p)), { recursive: true });
      await writeFileAtomic(path(p), content, fileMode, owner);
    },
    async copy(p, source, fileMode) {
      written.push(p);
      if (mode === "dry-run") {
        echo(`      ${color.dim("would copy:")} ${source} -> ${p} (mode ${octal(fileMode)})`);
        return;
      }
      await mkdir(dirname(path(p)), { recursive: true });
      // A random name and COPYFILE_EXCL (O_EXCL: fails on any existing entry, symlinks
      // included): a guessable temp name could be pre-planted as a link that root writes through.
      const tmp = `${path(p)}.${randomBytes(6).toString("hex")}.new`;
      try {
        await copyFile(source, tmp, constants.COPYFILE_EXCL);
        await chmod(tmp, fileMode);
        await rename(tmp, path(p));
      } catch (e) {
        // Only our own temp file: an entry that was already there (EEXIST) is not ours to delete.
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") await rm(tmp, { force: true });
        throw e;
      }
    },
    async mkdir(p, dirMode) {
      if (existsSync(path(p))) return false;
      written.push(p);
      if (mode === "dry-run") {
        echo(`      ${color.dim("would create directory:")} ${p} (mode ${octal(dirMode)})`);
        return true;
      }
      // Parents (/var/lib in a staging root) get the usual 0755; only the leaf is private.
      await mkdir(dirname(path(p)), { recursive: true, mode: 0o755 });
      await mkdir(path(p), { mode: dirMode });
      await chmod(path(p), dirMode);
      return true;
    },
    async remove(p) {
      if (!existsSync(path(p)) && !isDanglingLink(path(p))) return false;
      if (mode === "dry-run") {
        echo(`      ${color.dim("would remove:")} ${p}`);
        return true;
      }
      await rm(path(p), { recursive: true, force: true });
      if (root !== "/") pruneEmptyParents(root, dirname(path(p)));
      return true;
    },
  };
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}

function isDanglingLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** In a staging root, the parents install created (usr/local/bin, …) go too once empty. */
function pruneEmptyParents(root: string, dir: string): void {
  while (relative(root, dir) && !relative(root, dir).startsWith("..")) {
    if (readdirSync(dir).length > 0) return;
    rmdirSync(dir);
    dir = dirname(dir);
  }
}

export async function fileMode(p: string): Promise<number | null> {
  try {
    return (await stat(p)).mode & 0o777;
  } catch {
    return null;
  }
}

/**
 * Same content? The binary is ~110 MB: the same file (re-running the installed binary) or a
 * different size answers at once, and otherwise it is compared in chunks, stopping at the first
 * difference, instead of reading both files whole.
 */
export function sameBytes(a: string, b: string): boolean {
  let fa: number | null = null;
  let fb: number | null = null;
  try {
    if (realpathSync(a) === realpathSync(b)) return true;
    const sa = statSync(a);
    const sb = statSync(b);
    if (sa.size !== sb.size) return false;
    fa = openSync(a, "r");
    fb = openSync(b, "r");
    const CHUNK = 1 << 20;
    const ba = Buffer.alloc(CHUNK);
    const bb = Buffer.alloc(CHUNK);
    for (let pos = 0; pos < sa.size; pos += CHUNK) {
      const na = readSync(fa, ba, 0, CHUNK, pos);
      const nb = readSync(fb, bb, 0, CHUNK, pos);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
    }
    return true;
  } catch {
    return false;
  } finally {
    if (fa !== null) closeSync(fa);
    if (fb !== null) closeSync(fb);
  }
}
