#!/usr/bin/env bash
# schemathesis against `webhooks serve`: every check (`--checks all`) of requests
# generated from the served OpenAPI document, on a fresh database on a free loopback
# port. `make test` runs it (`make api-fuzz` alone); it must end with 0 failures.
#
#   scripts/api-fuzz.sh                 install (pinned, .venv/schemathesis), build, run
#   API_FUZZ_EXAMPLES=500 scripts/api-fuzz.sh   more cases per operation (default 100)
#   API_FUZZ_SEED=123 scripts/api-fuzz.sh       another seed (default fixed, so a run
#                                               can be repeated)
#
# The run happens in a network namespace of its own (`unshare -rn`, util-linux) where
# only loopback exists: the generated webhooks and connection tests name random public
# hosts, and neither their DNS lookups nor their deliveries may leave the machine.
# Settings: tests/api-fuzz/schemathesis.toml. Needs Python 3.9+ with venv and pip, and
# PyPI; a missing tool is installed, never skipped. Bounded: at most 5 minutes.
set -euo pipefail

SCHEMATHESIS_VERSION="4.32.5"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv/schemathesis"
PYTHON="${PYTHON:-python3}"
CARGO="${CARGO:-cargo}"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/webhooks"
EXAMPLES="${API_FUZZ_EXAMPLES:-100}"
SEED="${API_FUZZ_SEED:-20261202}"

say() { echo "api-fuzz.sh: $*" >&2; }

# shellcheck source=venv.sh
source "$ROOT/scripts/venv.sh"

install() {
    pinned_venv "$VENV" "schemathesis==$SCHEMATHESIS_VERSION"
}

# Inside the namespace: loopback up (a new namespace has it down; an ioctl, so no
# iproute2 is needed), then serve and schemathesis.
isolated() {
    "$VENV/bin/python" -c 'import fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flags = struct.unpack("16sh", fcntl.ioctl(s, 0x8913, struct.pack("16sh", b"lo", 0)))[1]
fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", flags | 1))' || {
        say "could not bring up loopback in the network namespace"
        exit 1
    }
    run
}

run() {
    work="$(mktemp -d)"
    serve_pid=""
    cleanup() {
        if [[ -n "$serve_pid" ]]; then
            kill "$serve_pid" 2>/dev/null || true
            wait "$serve_pid" 2>/dev/null || true
        fi
        rm -rf "$work"
    }
    trap cleanup EXIT

    env -u WEBHOOKS_API_TOKEN -u WEBHOOKS_ALLOW_NETS RUST_LOG=warn \
        "$BIN" serve --addr 127.0.0.1:0 --db "$work/webhooks.db" >"$work/serve.log" 2>&1 &
    serve_pid=$!
    api=""
    for _ in $(seq 1 150); do
        api="$(grep -oE 'API +http://127\.0\.0\.1:[0-9]+' "$work/serve.log" | grep -oE 'http://.*' || true)"
        [[ -n "$api" ]] && break
        kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.log" >&2; say "webhooks serve exited"; exit 1; }
        sleep 0.2
    done
    [[ -n "$api" ]] || { cat "$work/serve.log" >&2; say "webhooks serve did not start in 30 s"; exit 1; }
    say "schemathesis $SCHEMATHESIS_VERSION against $api ($EXAMPLES cases per operation, seed $SEED)"

    # In the temporary directory: schemathesis' own files stay out of the repository.
    cd "$work"
    timeout 300 "$VENV/bin/st" --config-file "$ROOT/tests/api-fuzz/schemathesis.toml" \
        run "$api/openapi.json" --checks all --max-examples "$EXAMPLES" --seed "$SEED" \
        --workers 2 --request-timeout 10 --generation-database none --no-color
}

if [[ "${1:-}" == "--isolated" ]]; then
    isolated
    exit
fi
install
# The same packages, targets and so features as `make rust-tests`: nothing builds twice.
(cd "$ROOT" && "$CARGO" build --locked --workspace --all-targets)
unshare -rn true 2>/dev/null || {
    say "unshare -rn failed: this run needs a network namespace (util-linux, user namespaces enabled: sysctl kernel.unprivileged_userns_clone=1)"
    exit 1
}
exec unshare -rn -- bash "${BASH_SOURCE[0]}" --isolated
