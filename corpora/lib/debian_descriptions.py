"""Debian package descriptions from the archive's Translation-LANG indexes.

Shared by build-english-100k.sh, build-debian-eval.sh and build-chinese.sh.
The index files are downloaded by corpora/lib/common.sh (ensure_apt_lists)
into a private apt list directory; they are stored compressed, so they are
read through `apt-helper cat-file`, which understands every compression apt
uses.

Only bookworm *main* is read (not bookworm-updates / bookworm-security, whose
few entries are newer versions of packages already in main).
"""

import glob
import os
import random
import re
import subprocess
import sys
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_io import clean_line, clean_text  # noqa: E402

APT_HELPER = "/usr/lib/apt/apt-helper"
SUITE = "bookworm"


@dataclass
class Description:
    package: str
    md5: str
    synopsis: str  # the one-line short description
    text: str  # the long description, Debian formatting undone


# --------------------------------------------------------------------------
# Reading the indexes


def _index_file(lists_dir, pattern):
    files = sorted(
        f
        for f in glob.glob(os.path.join(lists_dir, pattern))
        if not f.endswith((".diff_Index", ".gpg"))
    )
    if not files:
        raise FileNotFoundError(f"no {pattern} in {lists_dir}: run ensure_apt_lists first")
    return files[0]


def _cat(path):
    """Uncompressed text of an apt list file."""
    out = subprocess.run([APT_HELPER, "cat-file", path], check=True, stdout=subprocess.PIPE).stdout
    return out.decode("utf-8")


def translation_path(lists_dir, lang):
    # the file name escapes '_' as %5f (Translation-zh%5fCN)
    lang_pat = lang.replace("_", "%5f")
    return _index_file(lists_dir, f"*_dists_{SUITE}_main_i18n_Translation-{lang_pat}*")


def packages_path(lists_dir, arch="amd64"):
    return _index_file(lists_dir, f"*_dists_{SUITE}_main_binary-{arch}_Packages*")


def archive_info(lists_dir):
    """Version and date of the bookworm release whose indexes were read."""
    info = {"suite": SUITE}
    path = _index_file(lists_dir, f"*_dists_{SUITE}_InRelease")
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(("Version: ", "Date: ")):
                k, _, v = line.partition(": ")
                info[k.lower()] = v.strip()
            elif not line.strip() and "date" in info:
                break
    return info


def _paragraphs(text):
    """deb822 paragraphs as lists of lines."""
    para = []
    for line in text.split("\n"):
        if line == "":
            if para:
                yield para
                para = []
        else:
            para.append(line)
    if para:
        yield para


def amd64_description_md5(lists_dir):
    """{package: Description-md5} from the amd64 Packages index."""
    result = {}
    pkg = None
    for line in _cat(packages_path(lists_dir)).split("\n"):
        if line.startswith("Package: "):
            pkg = line[9:].strip()
        elif line.startswith("Description-md5: ") and pkg is not None:
            result.setdefault(pkg, line[17:].strip())
    return result


# --------------------------------------------------------------------------
# Undoing Debian's description formatting (Debian Policy 5.6.13)

_CJK_RE = re.compile(
    "[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    "\U00020000-\U0003134f]"
)
# A normal (word-wrapped) line that starts a list item keeps its own line.
_LIST_ITEM_RE = re.compile(r"^(?:[-*+o\u2022\u00b7]|\d{1,3}[.)]|[a-zA-Z][.)]|\(\w{1,3}\))\s")


def _join(prev: str, nxt: str) -> str:
    """Join two word-wrapped lines: with a space, except across CJK text
    (Chinese descriptions are wrapped in the middle of words)."""
    if _CJK_RE.match(prev[-1:]) or _CJK_RE.match(nxt[:1]):
        return prev + nxt
    return prev + " " + nxt


def format_long_description(lines):
    """lines: the continuation lines of a Description field, each still
    starting with its leading space.

    - " ." (a line that is only a dot) is a paragraph break -> blank line;
    - " text" lines are word-wrapped prose: the leading space is removed and
      consecutive lines are joined into one line (list items such as
      " * foo" or " - foo" start a new line);
    - "  text" lines (two or more spaces) are preformatted: kept verbatim on
      their own line, minus the one leading space of the field syntax.
    """
    blocks = []  # paragraphs; each a list of output lines
    cur = []  # lines of the current paragraph
    prose_open = False  # the last line of cur is word-wrapped prose
    for raw in lines:
        body = raw[1:] if raw[:1] in (" ", "\t") else raw
        if body.strip() == ".":
            # " ." is the paragraph separator; "  ." (17 packages) is
            # clearly meant as one too.
            if cur:
                blocks.append(cur)
            cur, prose_open = [], False
            continue
        if body[:1] in (" ", "\t"):
            cur.append(body.rstrip())
            prose_open = False
            continue
        body = body.strip()
        if not body:
            continue
        if prose_open and not _LIST_ITEM_RE.match(body):
            cur[-1] = _join(cur[-1], body)
        else:
            cur.append(body)
        prose_open = True
    if cur:
        blocks.append(cur)
    return clean_text("\n\n".join("\n".join(b) for b in blocks))


# --------------------------------------------------------------------------
# Parsing and selecting


def parse_translation(text, lang):
    """All entries of a Translation-LANG index, in file order."""
    field = f"Description-{lang}: "
    out = []
    for para in _paragraphs(text):
        pkg = md5 = synopsis = None
        long_lines = []
        in_desc = False
        for line in para:
            if line.startswith("Package: "):
                pkg, in_desc = line[9:].strip(), False
            elif line.startswith("Description-md5: "):
                md5, in_desc = line[17:].strip(), False
            elif line.startswith(field):
                synopsis, in_desc = line[len(field):], True
            elif line[:1] in (" ", "\t"):
                if in_desc:
                    long_lines.append(line)
            else:
                in_desc = False
        if pkg is None or synopsis is None:
            continue
        out.append(
            Description(
                package=pkg,
                md5=md5 or "",
                synopsis=clean_line(synopsis),
                text=format_long_description(long_lines),
            )
        )
    return out


def load_descriptions(lists_dir, lang="en"):
    """One Description per package name, sorted by package name.

    A few packages (15 in bookworm's Translation-en, e.g. default-jdk) have
    several entries, one per architecture-specific text; the one the amd64
    Packages index points to (by Description-md5) wins, else the first.
    """
    entries = parse_translation(_cat(translation_path(lists_dir, lang)), lang)
    by_pkg = {}
    dup = set()
    for e in entries:
        if e.package in by_pkg:
            dup.add(e.package)
            by_pkg[e.package].append(e)
        else:
            by_pkg[e.package] = [e]
    if dup:
        md5s = amd64_description_md5(lists_dir)
        for pkg in dup:
            want = md5s.get(pkg)
            match = [e for e in by_pkg[pkg] if e.md5 == want]
            by_pkg[pkg] = match[:1] or by_pkg[pkg][:1]
    return [by_pkg[p][0] for p in sorted(by_pkg)]


def unique_descriptions(descs):
    """Drop entries with an empty long description and keep, for every
    long description shared by several packages, the first package (in the
    given order) only. Returns (kept, dropped_count)."""
    seen = set()
    kept = []
    for d in descs:
        if not d.text or d.text in seen:
            continue
        seen.add(d.text)
        kept.append(d)
    return kept, len(descs) - len(kept)


def package_url(pkg):
    return f"https://packages.debian.org/{SUITE}/{pkg}"


# --------------------------------------------------------------------------
# BEIR evaluation sets: query = synopsis, relevant document = long description

_WORD_RE = re.compile(r"[^\W_]+(?:['.\-+][^\W_]+)*")


def query_length(text):
    """Length in words; a CJK character counts as half a word (a Chinese
    word is about two characters)."""
    n_cjk = len(_CJK_RE.findall(text))
    n_words = len(_WORD_RE.findall(_CJK_RE.sub(" ", text)))
    return n_words + n_cjk / 2


def build_eval_set(descs, n_queries, seed=42, min_words=3):
    """descs: unique descriptions (see unique_descriptions).

    corpus  = every description, id = package name, title empty (so the
              query text is not inside the document);
    queries = a seeded random sample of n_queries (None: all) synopses with at least
              `min_words` words (query_length), id "q-PACKAGE".
    Synopses shared by several corpus documents (e.g. "transitional
    package", or library packages sharing one summary) are not used as
    queries: they have more than one equally right answer.
    Returns (corpus, queries, qrels, stats) in write_beir's shapes.
    """
    corpus = [(d.package, "", d.text) for d in descs]
    syn_count = {}
    for d in descs:
        k = d.synopsis.casefold()
        syn_count[k] = syn_count.get(k, 0) + 1
    shared = [d for d in descs if syn_count[d.synopsis.casefold()] > 1]
    short = [d for d in descs if query_length(d.synopsis) < min_words]
    eligible = [
        d for d in descs
        if syn_count[d.synopsis.casefold()] == 1 and query_length(d.synopsis) >= min_words
    ]
    rng = random.Random(seed)
    if n_queries is None or len(eligible) <= n_queries:
        sample = list(eligible)
    else:
        sample = rng.sample(eligible, n_queries)
    sample.sort(key=lambda d: d.package)
    queries = [(f"q-{d.package}", d.synopsis) for d in sample]
    qrels = [(f"q-{d.package}", d.package, 1) for d in sample]
    stats = {
        "corpus_documents": len(corpus),
        "queries": len(queries),
        "eligible_queries": len(eligible),
        "synopses_too_short": len(short),
        "synopses_shared": len(shared),
        "seed": seed,
        "min_words": min_words,
    }
    return corpus, queries, qrels, stats
