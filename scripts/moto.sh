#!/usr/bin/env bash
# The AWS emulator for the tests: moto's server, pinned, in the repository's .venv.
#
#   scripts/moto.sh install           create .venv with moto (quick when it is there)
#   scripts/moto.sh run -- CMD...     install, start moto on a free loopback port, run
#                                     CMD with AWS_ENDPOINT_URL pointing at it (and
#                                     MOTO_PID, its pid), stop it; exits with CMD's status
#   scripts/moto.sh start             install and start in the background; prints
#                                     `export AWS_ENDPOINT_URL=...` (eval it) and keeps
#                                     the server's pid in .venv/moto.pid
#   scripts/moto.sh stop              stop a server started by `start`
#
# Needs Python 3 (3.9 or later) with venv and pip, and PyPI.
set -euo pipefail

MOTO_VERSION="5.2.5"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"
PID_FILE="$VENV/moto.pid"
LOG_FILE="$VENV/moto.log"

say() { echo "moto.sh: $*" >&2; }

# shellcheck source=venv.sh
source "$ROOT/scripts/venv.sh"

install() {
    pinned_venv "$VENV" "moto[server]==$MOTO_VERSION"
}

free_port() {
    "$VENV/bin/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Starts the server; sets PORT and SERVER_PID.
launch() {
    PORT="$(free_port)"
    "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$LOG_FILE" 2>&1 &
    SERVER_PID=$!
    local endpoint="http://127.0.0.1:$PORT"
    for _ in $(seq 1 150); do
        if "$VENV/bin/python" -c "import urllib.request, sys
urllib.request.urlopen('$endpoint/moto-api/', timeout=1)" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            say "moto_server exited at start; its log ($LOG_FILE):"
            cat "$LOG_FILE" >&2
            exit 1
        fi
        sleep 0.1
    done
    say "moto_server did not answer on $endpoint within 15 s; its log ($LOG_FILE):"
    cat "$LOG_FILE" >&2
    kill "$SERVER_PID" 2>/dev/null || true
    exit 1
}

# Dummy credentials and a region for the SDK; the tests set their own as well.
export_env() {
    export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
    export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
    export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
    export AWS_REGION="${AWS_REGION:-us-east-1}"
}

case "${1:-}" in
install)
    install
    ;;
run)
    shift
    [[ "${1:-}" == "--" ]] && shift
    [[ $# -gt 0 ]] || { say "usage: scripts/moto.sh run -- COMMAND..."; exit 2; }
    install
    launch
    trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true' EXIT
    export_env
    export MOTO_PID="$SERVER_PID" # moto's process, for CPU figures (make bench)
    say "moto $MOTO_VERSION at $AWS_ENDPOINT_URL"
    status=0
    "$@" || status=$?
    exit "$status"
    ;;
start)
    install
    if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
        say "already running (pid $(cat "$PID_FILE")); run 'scripts/moto.sh stop' first"
        exit 1
    fi
    launch
    echo "$SERVER_PID" >"$PID_FILE"
    echo "export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT"
    say "moto $MOTO_VERSION at http://127.0.0.1:$PORT (pid $SERVER_PID); stop with scripts/moto.sh stop"
    ;;
stop)
    if [[ -f "$PID_FILE" ]]; then
        kill "$(cat "$PID_FILE")" 2>/dev/null || true
        rm -f "$PID_FILE"
    fi
    ;;
*)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
