#!/usr/bin/env bash
# Make sure Debian's Chromium is there for the browser test (tests/widgets/test_browser.py).
# Playwright's own browser download does not work on the course machines, so the test drives
# /usr/bin/chromium. Run by `make test` (and so by .ci/run). Installs it with apt when missing and
# allowed (root); otherwise it says so loudly and leaves the verdict to the browser test, which
# then fails with the same instructions rather than passing or skipping quietly.
set -uo pipefail

CHROMIUM="${NEXUS_LAB_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: $CHROMIUM missing; installing Debian's chromium package with apt-get..." >&2
    export DEBIAN_FRONTEND=noninteractive
    if apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
        if [ -x "$CHROMIUM" ]; then
            echo "ensure_chromium: installed $("$CHROMIUM" --version 2>/dev/null)" >&2
            exit 0
        fi
    fi
fi

cat >&2 <<MSG
######################################################################################
ensure_chromium: Chromium is NOT installed at $CHROMIUM and could not be installed here.
The browser test (tests/widgets/test_browser.py) will FAIL. To fix it, as root:
    apt-get update && apt-get install -y chromium
######################################################################################
MSG
exit 0
