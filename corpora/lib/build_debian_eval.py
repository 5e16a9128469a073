"""Builds a BEIR-format retrieval set from Debian descriptions
(run through build-debian-eval.sh and build-chinese.sh).

usage: build_debian_eval.py APT_LISTS_DIR LANG OUT_DIR MANIFEST N_QUERIES|all [SEED [MIN_WORDS]]

corpus  = every unique long description of Translation-LANG (first package
          in name order for a text shared by several packages), title empty;
queries = a seeded sample of N_QUERIES synopses (see
          debian_descriptions.build_eval_set for the filters).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_io import write_beir, write_manifest  # noqa: E402
from debian_descriptions import (  # noqa: E402
    archive_info,
    build_eval_set,
    load_descriptions,
    unique_descriptions,
)


def main():
    lists_dir, lang, out_dir, manifest_file, n_queries = sys.argv[1:6]
    seed = int(sys.argv[6]) if len(sys.argv) > 6 else 42
    min_words = float(sys.argv[7]) if len(sys.argv) > 7 else 3
    descs, dropped = unique_descriptions(load_descriptions(lists_dir, lang))
    n = None if n_queries == "all" else int(n_queries)
    corpus, queries, qrels, stats = build_eval_set(descs, n, seed=seed, min_words=min_words)
    write_beir(out_dir, corpus, queries, qrels)
    stats.update({
        "language": lang,
        "debian_archive": archive_info(lists_dir),
        "packages_dropped_as_duplicate_or_empty": dropped,
    })
    write_manifest(manifest_file, stats)
    print(f"{lang}: corpus {stats['corpus_documents']}, queries {stats['queries']} "
          f"(eligible {stats['eligible_queries']}, too short {stats['synopses_too_short']}, "
          f"shared synopsis {stats['synopses_shared']})", file=sys.stderr)


if __name__ == "__main__":
    main()
