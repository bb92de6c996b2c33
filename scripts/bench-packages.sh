#!/usr/bin/env bash
# The Debian packages the benchmark's Lucene part uses, installed when missing (`make bench`):
# - default-jdk-headless: javac compiles bench/lucene/ at bench time, java runs it;
# - liblucene8-java: the Lucene jars it is built against (core, memory, analyzers-common).
# Never fatal: without them (not root, no network) the Lucene part says so in
# bench/RESULTS.md and compares with issue 20's recorded figures. `make test` needs neither.
set -uo pipefail
missing=()
{ command -v java >/dev/null && command -v javac >/dev/null; } || missing+=(default-jdk-headless)
ls /usr/share/java/lucene-core-*.jar /usr/share/java/lucene-memory-*.jar >/dev/null 2>&1 \
    || missing+=(liblucene8-java)
((${#missing[@]})) || exit 0
if [ "$(id -u)" != 0 ]; then
    echo "bench: missing Debian packages: ${missing[*]} (as root: apt-get install" \
        "${missing[*]}); the Lucene part will use issue 20's recorded figures" >&2
    exit 0
fi
if ! { apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null; }; then
    echo "bench: could not install ${missing[*]}; the Lucene part will use issue 20's" \
        "recorded figures" >&2
fi
exit 0
