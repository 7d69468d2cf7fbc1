#!/bin/sh
# Installs voicesrv as a systemd service: uses a voicesrv binary next to this script (release
# download), or builds one when run from a source checkout, then runs `voicesrv install "$@"`.
# All the real work (and its --dry-run, rollback and idempotence) lives in that one command.
#   sudo ./install.sh [--port 22000] [--dry-run] [--enable-firewall] ...
set -eu

here=$(cd "$(dirname "$0")" && pwd)

say() { printf '%s\n' "install.sh: $*"; }
die() { printf '%s\n' "install.sh: $*" >&2; exit 1; }

if [ -x "$here/voicesrv" ] && [ ! -d "$here/voicesrv" ]; then
  bin="$here/voicesrv"
elif [ -f "$here/package.json" ] && [ -f "$here/cli/main.ts" ]; then
  bin="$here/dist/voicesrv"
  command -v npm >/dev/null 2>&1 || die "npm is needed to build from a checkout (or download a release binary and put it next to this script)"
  # Build as the user who owns the checkout, not as root, so node_modules and dist/ stay theirs.
  owner=$(stat -c %U "$here")
  as_owner() {
    if [ "$(id -u)" -eq 0 ] && [ "$owner" != root ] && command -v runuser >/dev/null 2>&1; then
      runuser -u "$owner" -- "$@"
    else
      "$@"
    fi
  }
  say "building the binary (npm install && npm run build) in $here"
  (cd "$here" && as_owner npm install --no-audit --no-fund && as_owner npm run build) || die "the build failed: see the output above"
  [ -x "$bin" ] || die "the build did not produce $bin"
else
  die "no voicesrv binary next to this script and not a source checkout: put the downloaded binary at $here/voicesrv"
fi

say "running $bin install $*"
exec "$bin" install "$@"
