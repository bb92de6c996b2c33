#!/usr/bin/env bash
# Install watcher as a systemd service on this host, from a checkout of the repository.
# Run as root: deploy/systemd/install.sh [--no-start]. Safe to run again to upgrade:
# existing config, rules and secrets in /etc/watcher are never overwritten.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$SRC/deploy/systemd"
PREFIX=/opt/watcher
CONF=/etc/watcher
PYTHON=${PYTHON:-python3}

if [[ $(id -u) -ne 0 ]]; then
    echo "install.sh: run as root" >&2
    exit 1
fi

# A system user with no login; its home is the state directory systemd creates.
if ! getent passwd watcher >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/watcher --no-create-home \
        --shell /usr/sbin/nologin watcher
fi

# The code is root's: the service can run it but never change it.
"$PYTHON" -m venv "$PREFIX/venv"
"$PREFIX/venv/bin/pip" install --quiet --upgrade pip
"$PREFIX/venv/bin/pip" install --quiet "$SRC[postgresql]"
# The documentation the unit names (README.md points into docs/).
install -m 0644 "$SRC/README.md" "$PREFIX/README.md"
install -d -m 0755 "$PREFIX/docs"
install -m 0644 "$SRC"/docs/*.md "$PREFIX/docs/"

# Config and rules: readable by group watcher only; secrets: root only (systemd reads
# them before dropping privileges).
install -d -m 0750 -o root -g watcher "$CONF"
if [[ ! -e $CONF/watcher.yaml ]]; then
    install -m 0640 -o root -g watcher "$HERE/watcher.yaml" "$CONF/watcher.yaml"
fi
if [[ ! -e $CONF/rules ]]; then
    install -d -m 0750 -o root -g watcher "$CONF/rules"
    install -m 0640 -o root -g watcher "$SRC"/rules/*.yaml "$CONF/rules/"
fi
install -m 0644 "$HERE/watcher.service" /etc/systemd/system/watcher.service
# The team's workspace: installed, not started (systemctl enable --now watcher-web).
install -m 0644 "$HERE/watcher-web.service" /etc/systemd/system/watcher-web.service
systemctl daemon-reload

if [[ ! -e $CONF/watcher.env ]]; then
    install -m 0600 -o root -g root "$HERE/watcher.env.example" "$CONF/watcher.env"
    echo "install.sh: now put the secrets in $CONF/watcher.env, check $CONF/watcher.yaml,"
    echo "and start it: systemctl enable --now watcher"
    exit 0
fi
if [[ ${1:-} != --no-start ]]; then
    systemctl enable watcher
    # ExecStartPre migrates first; a config or rule error shows in the journal.
    systemctl restart watcher
    systemctl --no-pager status watcher || journalctl --no-pager -n 20 -u watcher
fi
