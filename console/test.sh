#!/usr/bin/env bash
# The admin console's browser tests, as `make test` runs them. Installs what they need
# (Debian's chromium, playwright-core from package-lock.json), builds the `webhooks`
# binary, and runs `node --test console/tests/`. Anything that cannot be installed is
# an error: the tests never pass by skipping.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"

fail() {
  echo "console/test.sh: $*" >&2
  exit 1
}

# Node.js 20 or newer (the built-in test runner and playwright-core need it).
command -v node >/dev/null || fail "node is not installed; install Node.js 20 or newer"
command -v npm >/dev/null || fail "npm is not installed; install Node.js 20 or newer with npm"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || fail "Node.js $(node --version) is too old; 20 or newer is needed"

# Debian's chromium: playwright-core drives it; no browser is ever downloaded.
if [ ! -x "$chromium" ]; then
  echo "console/test.sh: installing chromium with apt-get" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "$chromium is missing and installing it needs root (apt-get install chromium)"
    sudo="sudo"
  fi
  $sudo apt-get update || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium \
    || fail "apt-get install chromium failed"
  [ -x "$chromium" ] || fail "chromium was installed but $chromium is not there"
fi

# playwright-core, exactly as console/package-lock.json pins it; reinstalled when the
# lock file changed since the last install.
lock_sum="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
stamp="$here/node_modules/.installed-lock.sha256"
if [ ! -d "$here/node_modules/playwright-core" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  echo "console/test.sh: npm ci" >&2
  (cd "$here" && npm ci --no-audit --no-fund) || fail "npm ci failed in console/"
  echo "$lock_sum" >"$stamp"
fi

# The binary the tests start (`webhooks serve`), with the console files embedded. Built
# as `make rust-tests` builds the workspace (same packages, targets and so features):
# `-p webhooks-cli` alone unifies features differently and compiled ~75 crates twice.
(cd "$root" && cargo build --locked --workspace --all-targets) || fail "cargo build of the workspace failed"

cd "$root"
exec node --test console/tests/
