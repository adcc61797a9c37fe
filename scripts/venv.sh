# Sourced by the scripts that install pinned Python tools (moto.sh, infra-lint.sh,
# api-fuzz.sh): one way to make a virtualenv and keep its pins.
#
# pinned_venv DIR PACKAGE==VERSION...: creates the virtualenv DIR when needed (with
# $PYTHON, default python3) and installs the packages unless a stamp in DIR says
# exactly these pins are there. Exits with a one-line message when it cannot.

pinned_venv() {
    local dir="$1"
    shift
    local me="${0##*/}"
    local stamp
    stamp="$dir/.pins-$(echo "$*" | tr ' =' '_-')"
    if [[ -x "$dir/bin/python" && -f "$stamp" ]]; then
        return 0
    fi
    echo "$me: installing $* into $dir" >&2
    if [[ ! -x "$dir/bin/python" ]]; then
        mkdir -p "$(dirname "$dir")"
        "${PYTHON:-python3}" -m venv "$dir" || {
            echo "$me: could not create a virtualenv: install Python 3 with venv (Debian: apt-get install python3-venv)" >&2
            exit 1
        }
    fi
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2 || {
        echo "$me: pip could not install $* (is PyPI reachable?)" >&2
        exit 1
    }
    rm -f "$dir"/.pins-*
    touch "$stamp"
}
