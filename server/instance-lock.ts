// One server per data directory (issue #13): the listener binds with reusePort (the SIGHUP
// certificate swap needs a second listener on the same port), so two servers started at the
// same instant could both pass the "is the port in use?" probe and then share the port, each
// with its own certificate. An exclusive flock(2) on <dataDir>/voicesrv.lock, taken before the
// probe and held for the life of the process, makes the second one refuse to start.
// Why flock through bun:ffi: Bun and Node have no file-lock API; a lock *file* with a PID in it
// goes stale after a crash or kill -9 and needs a racy liveness check, while the kernel drops a
// flock the moment its holder dies. The file is opened O_NOFOLLOW (a planted symlink is refused)
// and never written, so a root-run server cannot be made to touch another file through it.
// Where libc cannot be loaded (no glibc or musl), start-up goes on with a warning: the port
// probe still catches a server that started earlier.
import { closeSync, constants, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";

export const LOCK_FILE = "voicesrv.lock";

const LOCK_EX = 2;
const LOCK_NB = 4;
const LIBC_NAMES = ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1", "libc.musl-armhf.so.1"];

/** 0 when locked, else errno (EWOULDBLOCK: someone else holds it). */
type Flock = (fd: number, op: number) => number;
const EWOULDBLOCK = 11;
let flockLoad: Promise<Flock | null> | null = null;

function loadFlock(): Promise<Flock | null> {
  flockLoad ??= (async () => {
    try {
      const { dlopen, FFIType, read } = await import("bun:ffi");
      for (const name of LIBC_NAMES) {
        try {
          const lib = dlopen(name, {
            flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
            __errno_location: { args: [], returns: FFIType.ptr },
          });
          return (fd: number, op: number) => (lib.symbols.flock(fd, op) === 0 ? 0 : read.i32(lib.symbols.__errno_location()!, 0));
        } catch {
          // try the next libc name
        }
      }
    } catch {
      // not running under Bun
    }
    return null;
  })();
  return flockLoad;
}

export type LockResult =
  | { kind: "locked"; path: string; release(): void }
  | { kind: "held"; path: string }
  | { kind: "unavailable"; path: string; reason: string };

/** Takes the data directory's lock without waiting. Creates the directory (0750) if missing. */
export async function lockDataDir(dataDir: string): Promise<LockResult> {
  const path = join(dataDir, LOCK_FILE);
  const flock = await loadFlock();
  if (!flock) return { kind: "unavailable", path, reason: "flock(2) is not available (no libc found)" };
  let fd: number;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o750 });
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    } catch (e) {
      // A read-only data directory (certificates provisioned by someone else) can still hold a
      // lock file made earlier; flock works on a read-only descriptor.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "EACCES" && code !== "EROFS" && code !== "EPERM") throw e;
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    }
  } catch (e) {
    return { kind: "unavailable", path, reason: (e as Error).message };
  }
  const errno = flock(fd, LOCK_EX | LOCK_NB);
  if (errno !== 0) {
    closeSync(fd);
    // Anything but "held by someone else" (a seccomp filter, an odd filesystem) must not stop
    // the server: it starts, with the warning.
    return errno === EWOULDBLOCK ? { kind: "held", path } : { kind: "unavailable", path, reason: `flock failed with errno ${errno}` };
  }
  let released = false;
  return {
    kind: "locked",
    path,
    release() {
      if (released) return;
      released = true;
      // Closing the descriptor drops the lock; the file stays (removing it would race a starter).
      closeSync(fd);
    },
  };
}
