#!/usr/bin/env bash
# The Debian packages the tests use, installed when missing (`make test` and .ci/run):
# - postgresql: the store's PostgreSQL tests start their own server from its binaries;
# - systemd: tests/deploy checks the unit with systemd-analyze (no running systemd needed);
# - openssl: the HTTPS loopback servers of the fetch and Teams tests make certificates;
# - chromium: the workspace's browser tests drive Debian's Chromium (never a downloaded one).
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v openssl >/dev/null || missing+=(openssl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if ((${#missing[@]})); then
    if [ "$(id -u)" != 0 ]; then
        echo "missing Debian packages: ${missing[*]} (as root: apt-get install ${missing[*]})" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
