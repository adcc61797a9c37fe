# The project's commands. `make run` starts the local service; `make test` runs
# every test. Both work on a fresh machine with the Rust toolchain, Python 3 and Node.js.

CARGO ?= cargo
ADDR ?= 127.0.0.1:8080
DB ?= webhooks.db

.PHONY: run build test check lint infra-lint api-fuzz package bench rust-tests doc examples console screenshots moto clean

## Build (profile `serve`: opt-level 3, thin LTO) and start `webhooks serve` on $(ADDR) with the SQLite file $(DB).
run: build
	$${CARGO_TARGET_DIR:-target}/serve/webhooks serve --addr $(ADDR) --db $(DB)

build:
	$(CARGO) build --profile serve --locked -p webhooks-cli

## Every test: formatting, lints, the SAM template's linters, receiver snippets, the
## console in a browser, schemathesis against the API, and unit, conformance and
## integration tests. The template's linters (Python), the browser tests and
## schemathesis run beside the Rust tests, each target's output kept together; cargo's
## own lock orders the builds.
test: lint
	$(MAKE) --no-print-directory -j3 --output-sync=target infra-lint examples console api-fuzz rust-tests

## The inner loop: formatting, lints and every cargo test that needs neither the moto
## emulator nor a browser: the integration binary's `aws::` modules and the Rust
## producer example (it sends to SQS) are left to `make test`.
check: lint
	$(CARGO) test --locked --workspace --lib --bins --tests --exclude webhooks-produce-example -- --skip aws::

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

## Every cargo test: unit, conformance and integration tests; the AWS ones against the
## pinned moto emulator, which scripts/moto.sh installs (.venv) and starts on a free
## loopback port. Everything is built first (the same features as the tests, so nothing
## builds twice): the Lambda tests run the functions' binaries as processes. The
## integration tests are one binary (tests/tests/it): one link of the AWS SDK.
rust-tests:
	$(CARGO) build --locked --workspace --all-targets
	scripts/moto.sh run -- $(CARGO) test --locked --workspace --all-targets

moto:
	scripts/moto.sh install

## The workspace's API documentation (no dependencies), in target/doc.
doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --locked --workspace --no-deps

## The SAM template: cfn-lint, sam validate (--lint and plain) and checkov, with the
## pinned tools scripts/infra-lint.sh installs into .venv/infra.
infra-lint:
	bash scripts/infra-lint.sh

ARCH ?= arm64
## `sam build` of the four functions (cargo-lambda, release, $(ARCH)) into
## infra/.aws-sam, ready for `sam deploy`. Slow on 2 cores; not part of `make test`.
package:
	cd infra && bash ../scripts/infra-lint.sh sam build --parameter-overrides Architecture=$(ARCH)

## The signature-verification snippets of docs/verifying-signatures.md (Python and
## Node) against fixed vectors.
examples:
	bash examples/verify/check.sh

## schemathesis (pinned, .venv/schemathesis) with every check against `webhooks serve`
## on loopback, in a network namespace of its own; it must report 0 failures.
api-fuzz:
	bash scripts/api-fuzz.sh

## The admin console's browser tests (installs Debian's chromium and playwright-core if missing).
console:
	bash console/test.sh

## Refreshes the docs' console screenshots (docs/screenshots/): the browser tests with
## their screenshots written there instead of under target/.
screenshots:
	SCREENSHOTS_DIR=docs/screenshots bash console/test.sh

## Benchmarks: criterion micro-benchmarks, the system benchmark of `webhooks serve`
## against the svix-server reference, the delivery function on moto and the Lambda
## binaries' size and init time; prints the table and writes BENCHMARKS.md. Builds with
## the bench-build profile (serve without cross-crate LTO); PROFILE=release for the
## shipped build. Figures are reported, never asserted. RUNS=3 MICRO=0 AWS=0 for less.
bench:
	CARGO=$(CARGO) bash scripts/bench.sh

clean:
	$(CARGO) clean
