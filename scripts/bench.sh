#!/usr/bin/env bash
# `make bench`: builds the binaries in one cargo invocation (the `webhooks` CLI, the
# `bench` driver, whose binary also runs the criterion micro-benchmarks, and the four
# Lambda functions) while moto is installed beside it, runs the micro-benchmarks with
# short times, then `bench system` under the pinned moto emulator (scripts/moto.sh
# run): the system benchmark of `webhooks serve` (both shapes, RUNS runs each, and the
# limit reference beside each run), then the AWS part (the delivery function on moto, a batch of 10
# events × fan-out 100; each function's binary size and init time on a fake Lambda
# runtime API), then the noisy-neighbour shape (a healthy webhook alone, then beside a
# hanging and a failing one, on serve and, with the AWS part, on the delivery function),
# and writes the report to BENCHMARKS.md (also printed).
# Nothing here is a test: figures are reported, never asserted.
#
# Environment: CARGO (default cargo), PROFILE (default bench-build: the `serve` profile
# without cross-crate LTO, for every binary, see Cargo.toml; PROFILE=release measures
# the functions as shipped, sized, and serve built the same way, and takes longer to
# build), RUNS (default 5), BENCH_OUT (default BENCHMARKS.md), MICRO=0 to skip
# the micro-benchmarks, AWS=0 to skip the AWS part (and moto), NOISY=0 to skip the
# noisy-neighbour shape, NOISY_EVENTS (default 400) its events per run, NOISY_BOUND
# (default 300) the seconds one of its runs may wait for the healthy deliveries,
# BENCH_JSON=FILE to also write its ratios (noisy.local_ratio, noisy.lambda_ratio)
# as JSON. The shape alone, after a build: `target/bench-build/bench noisy --webhooks
# target/bench-build/webhooks`, and for Lambda too `--functions target/bench-build`
# under `MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR=false scripts/moto.sh run --`.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO="${CARGO:-cargo}"
RUNS="${RUNS:-5}"
OUT="${BENCH_OUT:-BENCHMARKS.md}"
PROFILE="${PROFILE:-bench-build}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$PROFILE" in
  dev | test) BIN="$TARGET_DIR/debug" ;;
  release | bench) BIN="$TARGET_DIR/release" ;;
  serve) BIN="$TARGET_DIR/serve" ;;
  *) BIN="$TARGET_DIR/$PROFILE" ;;
esac
started=$SECONDS

moto_install=""
if [ "${AWS:-1}" != "0" ]; then
  # Mostly downloads: it runs beside the build instead of after it.
  scripts/moto.sh install &
  moto_install=$!
fi

echo "== building (profile $PROFILE): webhooks, bench, the four functions" >&2
# Without default features: `webhooks` without its `sqs` feature (`send --queue-url`,
# the AWS SDK), which `serve` does not use; no other package here has features.
"$CARGO" build --profile "$PROFILE" --locked --no-default-features -p webhooks-cli \
  -p webhooks-bench -p webhooks-api -p webhooks-test-connection -p webhooks-delivery \
  -p webhooks-log-writer
build_secs=$((SECONDS - started))

if [ -n "$moto_install" ]; then
  wait "$moto_install" || { echo "bench.sh: could not install moto (scripts/moto.sh install)" >&2; exit 1; }
fi

if [ "${MICRO:-1}" != "0" ]; then
  echo "== criterion micro-benchmarks" >&2
  rm -rf "$TARGET_DIR/criterion"
  "$BIN/bench" micro --criterion "$TARGET_DIR/criterion"
fi

system=("$BIN/bench" system
  --webhooks "$BIN/webhooks"
  --build-profile "$PROFILE"
  --build-secs "$build_secs"
  --before-secs "$((SECONDS - started))"
  --runs "$RUNS"
  --criterion "$TARGET_DIR/criterion"
  --out "$OUT")
noisy_note=", then the noisy neighbour"
if [ "${NOISY:-1}" = "0" ]; then
  system+=(--noisy-events 0)
  noisy_note=""
else
  system+=(--noisy-events "${NOISY_EVENTS:-400}" --noisy-bound-secs "${NOISY_BOUND:-300}")
fi
if [ -n "${BENCH_JSON:-}" ]; then
  system+=(--json "$BENCH_JSON")
fi

if [ "${AWS:-1}" != "0" ]; then
  echo "== system benchmark ($RUNS runs per shape), then the AWS part on moto$noisy_note" >&2
  # moto idles (no CPU) through the system benchmark; it is started once for both.
  # The delivery benchmark purges the logs queue every 50 ms (moto's SendMessage slows
  # with the queue's depth); moto allows one purge a minute unless told otherwise.
  MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR=false \
    scripts/moto.sh run -- "${system[@]}" --functions "$BIN"
else
  echo "== system benchmark ($RUNS runs per shape)$noisy_note" >&2
  "${system[@]}"
fi
echo "== make bench took $((SECONDS - started)) s (building: $build_secs s)" >&2
