#!/usr/bin/env bash
# Lints the SAM template (infra/template.yaml) with pinned tools, installing them
# first when they are missing or their pin changed (reruns are quick):
#
#   cfn-lint                      CloudFormation schema and best-practice rules
#   sam validate --lint           SAM CLI running cfn-lint on the template
#   sam validate                  the SAM transform itself (offline, dummy credentials)
#   checkov                       security policies; every skip is justified inline in
#                                 the template (Metadata: checkov: skip: ... comment)
#
#   scripts/infra-lint.sh             install what is missing, then run all four
#   scripts/infra-lint.sh install     install only
#   scripts/infra-lint.sh sam ARGS... run the pinned `sam` in the current directory
#                                     (`make package`: `cd infra && sam build`); the
#                                     pinned cargo-lambda is on its PATH
#
# The tools live in their own virtualenvs under .venv/infra/ (the moto emulator of
# scripts/moto.sh has .venv itself): aws-sam-cli pins boto3 exactly, checkov pins an
# older one, so the two cannot share an environment. Needs Python 3.9+ with venv and
# pip, and PyPI. Exits non-zero when a tool cannot be installed or reports a failure;
# a missing tool is installed, never skipped.
set -euo pipefail

SAM_CLI_VERSION="1.170.0"
CFN_LINT_VERSION="1.58.0"
CHECKOV_VERSION="3.3.30"
# `sam build` runs `cargo lambda build`; the pip package ships the binary (and zig for
# cross-compiling).
CARGO_LAMBDA_VERSION="1.9.2"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.venv/infra"
PYTHON="${PYTHON:-python3}"
TEMPLATE="infra/template.yaml"

say() { echo "infra-lint.sh: $*" >&2; }

# shellcheck source=venv.sh
source "$ROOT/scripts/venv.sh"

install() {
    pinned_venv "$TOOLS/sam" "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION" \
        "cargo-lambda==$CARGO_LAMBDA_VERSION"
    pinned_venv "$TOOLS/checkov" "checkov==$CHECKOV_VERSION"
}

# Offline and quiet: no SAM telemetry; checkov runs with --skip-download (no guideline
# or policy downloads); `sam validate` gets a region and dummy credentials (it needs
# them set, but calls no AWS API).
tool_env() {
    export SAM_CLI_TELEMETRY=0
    export PATH="$TOOLS/sam/bin:$PATH"
}

# In the caller's directory: `cd infra && ../scripts/infra-lint.sh sam build` finds
# template.yaml and samconfig.toml there and builds into infra/.aws-sam.
run_sam() {
    install
    tool_env
    exec "$TOOLS/sam/bin/sam" "$@"
}

lint() {
    install
    tool_env
    cd "$ROOT"
    local failed=()

    say "cfn-lint $CFN_LINT_VERSION"
    "$TOOLS/sam/bin/cfn-lint" "$TEMPLATE" || failed+=(cfn-lint)

    say "sam validate --lint (aws-sam-cli $SAM_CLI_VERSION)"
    "$TOOLS/sam/bin/sam" validate --lint -t "$TEMPLATE" || failed+=("sam validate --lint")

    say "sam validate"
    env -u AWS_PROFILE -u AWS_SESSION_TOKEN \
        AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
        AWS_ACCESS_KEY_ID=AKIAEXAMPLEDUMMYKEY0 AWS_SECRET_ACCESS_KEY=dummy-secret-not-used \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
        "$TOOLS/sam/bin/sam" validate -t "$TEMPLATE" || failed+=("sam validate")

    say "checkov $CHECKOV_VERSION"
    # checkov exits 0 on a template it could not parse (it then checked nothing), so
    # its summary is read too: no parsing error, and some check passed.
    local report
    report="$(mktemp)"
    if "$TOOLS/checkov/bin/checkov" -f "$TEMPLATE" --framework cloudformation \
        --quiet --compact --skip-download | tee "$report"; then
        if grep -Eq "Parsing errors: [1-9]" "$report" || ! grep -Eq "Passed checks: [1-9]" "$report"; then
            say "checkov could not parse $TEMPLATE, or checked nothing"
            failed+=(checkov)
        fi
    else
        failed+=(checkov)
    fi
    rm -f "$report"

    if [[ ${#failed[@]} -gt 0 ]]; then
        say "FAILED: ${failed[*]}"
        exit 1
    fi
    say "the template passes cfn-lint, sam validate --lint, sam validate and checkov"
}

case "${1:-lint}" in
lint) lint ;;
install) install ;;
sam)
    shift
    run_sam "$@"
    ;;
*)
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
