#!/usr/bin/env bash
# `make bench`: builds the release binaries in one cargo invocation (the `webhooks`
# CLI, the `bench` driver, whose binary also runs the criterion micro-benchmarks, and
# the four Lambda functions), runs the micro-benchmarks with short times, then
# `bench system` under the pinned moto emulator (scripts/moto.sh run): the system
# benchmark of `webhooks serve` (both shapes, RUNS runs each, and the naive baseline),
# then the AWS part (the delivery function on moto, a batch of 10 events × fan-out
# 100; each function's binary size and init time on a fake Lambda runtime API), and
# writes the report to BENCHMARKS.md (also printed).
# Nothing here is a test: figures are reported, never asserted.
#
# Environment: CARGO (default cargo), RUNS (default 5), BENCH_OUT (default BENCHMARKS.md),
# MICRO=0 to skip the micro-benchmarks, AWS=0 to skip the AWS part (and moto).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO="${CARGO:-cargo}"
RUNS="${RUNS:-5}"
OUT="${BENCH_OUT:-BENCHMARKS.md}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"

echo "== building the release binaries (webhooks, bench, the four functions)" >&2
"$CARGO" build --release --locked -p webhooks-cli -p webhooks-bench \
  -p webhooks-api -p webhooks-test-connection -p webhooks-delivery -p webhooks-log-writer

if [ "${MICRO:-1}" != "0" ]; then
  echo "== criterion micro-benchmarks" >&2
  rm -rf "$TARGET_DIR/criterion"
  "$TARGET_DIR/release/bench" micro --criterion "$TARGET_DIR/criterion"
fi

system=("$TARGET_DIR/release/bench" system
  --webhooks "$TARGET_DIR/release/webhooks"
  --runs "$RUNS"
  --criterion "$TARGET_DIR/criterion"
  --out "$OUT")

if [ "${AWS:-1}" != "0" ]; then
  echo "== system benchmark ($RUNS runs per shape), then the AWS part on moto" >&2
  # moto idles (no CPU) through the system benchmark; it is started once for both.
  # The delivery benchmark purges the logs queue every 50 ms (moto's SendMessage slows
  # with the queue's depth); moto allows one purge a minute unless told otherwise.
  MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR=false \
    scripts/moto.sh run -- "${system[@]}" --functions "$TARGET_DIR/release"
else
  echo "== system benchmark ($RUNS runs per shape)" >&2
  "${system[@]}"
fi
