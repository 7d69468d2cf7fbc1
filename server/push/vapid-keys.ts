// The server's VAPID key pair (RFC 8292): an ECDSA P-256 key the server signs every push request
// with. Browsers bind each push subscription to its public key (applicationServerKey), so the key
// must live as long as the subscriptions: it is created once, on the first start, in
// <dataDir>/vapid.json, and never replaced by the server.
//
// Decisions:
// - The file holds {"publicKey", "privateKey"} as unpadded base64url of the raw 65-byte point and
//   the 32-byte scalar: the layout `web-push generate-vapid-keys --json` prints, so keys can be
//   moved between servers by hand.
// - Mode 0600, created through a temp file and link(): link fails if vapid.json appeared in the
//   meantime, so an existing key is never overwritten (that would silently unsubscribe every
//   phone). A symlink at vapid.json is refused, as for the TLS key.
// - An existing file that group or others may read is narrowed to 0600 and reported
//   (`repairedMode`) for the caller to log: refusing to start over a mode bit would keep every
//   phone from ringing, and a new key would unsubscribe them all.
// - A file that does not parse, or whose halves do not belong together, stops the start with the
//   reason; it is not replaced on its own.
import { p256 } from "@noble/curves/p256";
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { link, lstat, mkdir, open, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { syncDirectory } from "../../certs/atomic-write.ts";
import { base64urlBytes, base64urlEncode } from "../../protocol/base64url.ts";

export const VAPID_FILE = "vapid.json";

export interface VapidKeys {
  /** Uncompressed P-256 point (65 bytes): the browsers' applicationServerKey. */
  publicKey: Uint8Array;
  /** The same, unpadded base64url: what the PWA passes to pushManager.subscribe(). */
  publicKeyB64url: string;
  /** Non-extractable ECDSA P-256 signing key. */
  privateKey: CryptoKey;
}

export interface LoadedVapidKeys extends VapidKeys {
  file: string;
  /** True when this call made the key pair (first start). */
  created: boolean;
  /** The mode the file had when it was group- or world-accessible and was narrowed to 0600. */
  repairedMode?: number;
}

export class VapidKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VapidKeyError";
  }
}

/** Signing key from the raw halves; throws unless they are one valid P-256 key pair. */
export async function importVapidKeys(publicKey: Uint8Array, privateScalar: Uint8Array): Promise<VapidKeys> {
  let derived: Uint8Array;
  try {
    derived = p256.getPublicKey(privateScalar, false);
  } catch {
    throw new VapidKeyError("the private key is not a valid P-256 scalar");
  }
  if (derived.length !== publicKey.length || !derived.every((b, i) => b === publicKey[i])) throw new VapidKeyError("the public key does not belong to the private key");
  const b64 = (b: Uint8Array) => base64urlEncode(b);
  const privateKey = await crypto.subtle.importKey(
    "jwk",
    { kty: "EC", crv: "P-256", x: b64(publicKey.subarray(1, 33)), y: b64(publicKey.subarray(33, 65)), d: b64(privateScalar), ext: false },
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign"],
  );
  return { publicKey, publicKeyB64url: b64(publicKey), privateKey };
}

function parseVapidFile(raw: string): { publicKey: Uint8Array; privateKey: Uint8Array } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new VapidKeyError("not JSON");
  }
  const o = (json ?? {}) as { publicKey?: unknown; privateKey?: unknown };
  const publicKey = base64urlBytes(o.publicKey, 65);
  const privateKey = base64urlBytes(o.privateKey, 32);
  if (!publicKey || publicKey[0] !== 4) throw new VapidKeyError('"publicKey" must be the base64url of a 65-byte uncompressed P-256 point');
  if (!privateKey) throw new VapidKeyError('"privateKey" must be the base64url of a 32-byte P-256 private key');
  return { publicKey, privateKey };
}

async function lstatOrNull(p: string) {
  try {
    return await lstat(p);
  } catch (e) {
    // ENOTDIR: a path component is a file, so there is no vapid.json; making one says why not.
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    throw e;
  }
}

async function loadExisting(file: string): Promise<LoadedVapidKeys> {
  // O_NOFOLLOW: a link swapped in after the lstat is refused too.
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  let repairedMode: number | undefined;
  let raw: string;
  try {
    const mode = (await handle.stat()).mode & 0o777;
    if (mode & 0o077) {
      await handle.chmod(0o600);
      repairedMode = mode;
    }
    raw = await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
  let halves;
  let keys;
  try {
    halves = parseVapidFile(raw);
    keys = await importVapidKeys(halves.publicKey, halves.privateKey);
  } catch (e) {
    throw new VapidKeyError(`${file} is unusable (${(e as Error).message}): restore it from a backup, or move it away to make a new key pair — every phone then has to turn notifications on again`);
  }
  return { ...keys, file, created: false, ...(repairedMode !== undefined ? { repairedMode } : {}) };
}

/** Reads <dataDir>/vapid.json, or creates it (0600) with a new key pair on the first start. */
export async function loadOrCreateVapidKeys(dataDir: string): Promise<LoadedVapidKeys> {
  const file = join(dataDir, VAPID_FILE);
  const st = await lstatOrNull(file);
  if (st?.isSymbolicLink()) throw new VapidKeyError(`${file} is a symbolic link: refusing to read the push key through it (replace it with the file itself)`);
  if (st && !st.isFile()) throw new VapidKeyError(`${file} is not a file`);
  if (st) return loadExisting(file);

  const privateScalar = p256.utils.randomPrivateKey();
  const publicKey = p256.getPublicKey(privateScalar, false);
  const content = JSON.stringify({ publicKey: base64urlEncode(publicKey), privateKey: base64urlEncode(privateScalar), created: new Date().toISOString() }, null, 2) + "\n";
  const tmp = join(dataDir, `.${VAPID_FILE}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const handle = await open(tmp, "wx", 0o600);
    try {
      await handle.writeFile(content, "utf8");
      await handle.chmod(0o600);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(tmp, file);
    } catch (e) {
      // Another process made one first: theirs is the key.
      if ((e as NodeJS.ErrnoException).code === "EEXIST") return loadExisting(file);
      throw e;
    }
  } catch (e) {
    if (e instanceof VapidKeyError) throw e;
    throw new VapidKeyError(`cannot write ${file}: ${(e as Error).message}`);
  } finally {
    await unlink(tmp).catch(() => {});
  }
  await syncDirectory(dataDir);
  return { ...(await importVapidKeys(publicKey, privateScalar)), file, created: true };
}

/** The public key alone (for `status`/`doctor`), or null when there is no usable file yet. */
export async function readVapidPublicKey(dataDir: string): Promise<string | null> {
  try {
    return base64urlEncode(parseVapidFile(await readFile(join(dataDir, VAPID_FILE), "utf8")).publicKey);
  } catch {
    return null;
  }
}
