// Root running `voicesrv group …` or `backup` on an installed server's data directory must not
// leave root-owned database files there (the service, running as voicesrv, could no longer open
// them), nor follow links the service user could plant. So the command becomes the directory's
// owner before it touches anything inside: the same files, the same rights as the service.
import { lstatSync } from "node:fs";
import { CliError } from "../cli-error.ts";

export function becomeDataDirOwner(dataDir: string): void {
  if (process.getuid?.() !== 0) return;
  let st;
  try {
    st = lstatSync(dataDir);
  } catch {
    return; // nothing there yet: it is created as root, like `serve` run as root would
  }
  if (st.isSymbolicLink() || !st.isDirectory()) throw new CliError(`${dataDir} is ${st.isSymbolicLink() ? "a symbolic link" : "not a directory"}: refusing to work in it as root`);
  if (st.uid === 0) return;
  process.setgroups?.([]);
  process.setgid!(st.gid);
  process.setuid!(st.uid);
}
