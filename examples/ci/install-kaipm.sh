#!/usr/bin/env bash
# Builds kaipm from source on a Debian or Ubuntu runner with Swift installed, into /usr/local/bin.
set -euo pipefail
sudo apt-get update -qq
sudo apt-get install -y -qq libgit2-dev libsqlite3-dev pkg-config
src=${KAIPM_SRC:-$(mktemp -d)}
[ -d "$src/.git" ] || git clone --depth 1 "${KAIPM_GIT:?set KAIPM_GIT to the kaipm repository URL}" "$src"
(cd "$src" && swift build -c release --static-swift-stdlib --product kaipm)
sudo install -m 0755 "$src/.build/release/kaipm" /usr/local/bin/kaipm
