"""Builds corpora/out/english-100k/docs.jsonl (run through build-english-100k.sh).

usage: build_english_100k.py APT_LISTS_DIR WORDNET_DIR OUT_FILE MANIFEST [TOTAL]

1. every unique Debian English long description (bookworm main
   Translation-en), sorted by package name;
2. WordNet 3.0 synsets until the total is TOTAL (100,000): an evenly spaced,
   order-preserving selection over data.noun, data.verb, data.adj, data.adv
   (in that order), so that all four parts of speech are represented.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_io import DocWriter, clean_line, clean_text, write_manifest  # noqa: E402
from debian_descriptions import archive_info, load_descriptions, package_url, unique_descriptions  # noqa: E402

WORDNET_FILES = (("n", "noun"), ("v", "verb"), ("a", "adj"), ("r", "adv"))


def read_wordnet(wn_dir):
    """Synsets as (pos_letter, pos_name, offset, words, gloss), file order.

    data.POS line: offset lex_filenum ss_type w_cnt(hex) {word lex_id}
    p_cnt {ptr} [frames] | gloss   (license header lines start with spaces).
    """
    out = []
    for letter, name in WORDNET_FILES:
        with open(os.path.join(wn_dir, f"data.{name}"), encoding="utf-8") as f:
            for line in f:
                if line.startswith(" "):
                    continue
                head, _, gloss = line.partition(" | ")
                fields = head.split()
                offset = fields[0]
                w_cnt = int(fields[3], 16)
                words = []
                for i in range(w_cnt):
                    w = fields[4 + 2 * i]
                    # adjective syntactic markers: word(a), word(p), word(ip)
                    if w.endswith(")") and "(" in w:
                        w = w[: w.index("(")]
                    w = w.replace("_", " ")
                    if w not in words:
                        words.append(w)
                out.append((letter, name, offset, words, gloss.strip()))
    return out


def evenly_spaced(items, k):
    """k items spread evenly over the list, original order kept."""
    n = len(items)
    if k >= n:
        return list(items)
    return [items[i] for i in range(n) if (i + 1) * k // n > i * k // n]


def main():
    lists_dir, wn_dir, out_file, manifest_file = sys.argv[1:5]
    total = int(sys.argv[5]) if len(sys.argv) > 5 else 100_000

    descs, dropped = unique_descriptions(load_descriptions(lists_dir, "en"))
    synsets = read_wordnet(wn_dir)
    n_wordnet = total - len(descs)
    if n_wordnet < 0:
        descs, n_wordnet = descs[:total], 0
    chosen = evenly_spaced(synsets, n_wordnet)
    if len(descs) + len(chosen) != total:
        raise SystemExit(f"only {len(descs) + len(chosen)} documents available, wanted {total}")

    per_pos = {}
    with DocWriter(out_file) as w:
        for d in descs:
            w.write(
                id=f"debian:{d.package}",
                title=f"{d.package}: {d.synopsis}",
                text=d.text,
                url=package_url(d.package),
                metadata={"source": "debian", "package": d.package},
            )
        for letter, name, offset, words, gloss in chosen:
            w.write(
                id=f"wordnet:{letter}:{offset}",
                title=clean_line(", ".join(words)),
                text=clean_text(gloss),
                metadata={"source": "wordnet", "pos": name},
            )
            per_pos[name] = per_pos.get(name, 0) + 1

    write_manifest(manifest_file, {
        "output": os.path.basename(out_file),
        "debian_archive": archive_info(lists_dir),
        "source_packages": os.environ.get("CORPUS_SOURCES", "").split(),
        "documents": w.count,
        "bytes": w.bytes,
        "debian_documents": len(descs),
        "debian_packages_dropped_as_duplicate_or_empty": dropped,
        "wordnet_documents": len(chosen),
        "wordnet_synsets_available": len(synsets),
        "wordnet_documents_per_pos": per_pos,
    })
    print(f"debian {len(descs)} (dropped {dropped} duplicate/empty), "
          f"wordnet {len(chosen)} of {len(synsets)} {per_pos}", file=sys.stderr)


if __name__ == "__main__":
    main()
