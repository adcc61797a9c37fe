#!/usr/bin/env bash
# Checks the receiver snippets against the fixed vectors in vectors.json:
#   examples/verify/check.sh               the vectors, with python3 and node
#   examples/verify/check.sh DELIVERY.json also one delivery {secret, id, timestamp, body, hmac, signature}
# The Rust snippet runs the same vectors in `cargo test -p webhooks-verify-example`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

for tool in python3 node; do
  command -v "$tool" >/dev/null || { echo "check.sh: $tool is not installed" >&2; exit 1; }
done

echo "== python: vectors"
python3 "$here/python/verify.py"
echo "== node: vectors"
node "$here/node/verify.js"

if [ "$#" -gt 0 ]; then
  echo "== python: $1"
  python3 "$here/python/verify.py" --check "$1"
  echo "== node: $1"
  node "$here/node/verify.js" --check "$1"
fi
echo "all receiver snippets agree with the vectors"
