# The project's commands. `make run` starts the local service; `make test` runs
# every test. Both work on a fresh machine with the Rust toolchain, Python 3 and Node.js.

CARGO ?= cargo
ADDR ?= 127.0.0.1:8080
DB ?= webhooks.db

.PHONY: run build test lint unit examples clean

## Build (release) and start `webhooks serve` on $(ADDR) with the SQLite file $(DB).
run: build
	./target/release/webhooks serve --addr $(ADDR) --db $(DB)

build:
	$(CARGO) build --release --locked -p webhooks-cli

## Every test: formatting, lints, unit, conformance, integration, receiver snippets.
test: lint examples unit

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --locked --workspace --all-targets

## The README's signature-verification snippets (Python and Node) against fixed vectors.
examples:
	bash examples/verify/check.sh

clean:
	$(CARGO) clean
