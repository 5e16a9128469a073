"""Shared output code for the corpora/ builders (Python 3 standard library only).

Document format read by `kb ingest` (JSON Lines, one document per line):
    {"id": str, "title": str, "text": str, "url": str (optional), "metadata": object (optional)}

BEIR layout used by the evaluation sets:
    corpus.jsonl   {"_id": str, "title": str, "text": str}
    queries.jsonl  {"_id": str, "text": str}
    qrels/test.tsv query-id <TAB> corpus-id <TAB> score   (with that header line)
"""

import json
import os
import re
import unicodedata

DOC_KEYS = ("id", "title", "text", "url", "metadata")
REQUIRED_KEYS = ("id", "title", "text")

# CSI / OSC / two-character escape sequences, e.g. "\x1b[32m", "\x1b[m".
_ANSI_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# C0/C1 controls except tab and newline, plus DEL and stray BOM/replacement marks.
_CTRL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff]")
_TRAILING_WS_RE = re.compile(r"[ \t]+\n")
_MANY_BLANKS_RE = re.compile(r"\n{3,}")


def strip_ansi(s: str) -> str:
    # repeat: fortunes-zh has interleaved sequences such as "\x1b[;\x1b[34;1mm"
    # that form a new one once the inner one is gone
    while True:
        t = _ANSI_RE.sub("", s)
        if t == s:
            return t
        s = t


def clean_text(s: str) -> str:
    """Normalise to clean UTF-8 text: NFC, \\n line ends, no ANSI escapes or
    control characters, no trailing blanks, at most one blank line in a row."""
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = strip_ansi(s)
    s = _CTRL_RE.sub("", s)
    s = unicodedata.normalize("NFC", s)
    s = _TRAILING_WS_RE.sub("\n", s)
    s = _MANY_BLANKS_RE.sub("\n\n", s)
    return s.strip("\n").rstrip()


def clean_line(s: str) -> str:
    """clean_text for one-line fields (titles, queries): whitespace collapsed."""
    return " ".join(clean_text(s).split())


def validate_doc(d) -> list:
    """Problems with one kb document (empty list when it is valid)."""
    if not isinstance(d, dict):
        return ["not a JSON object"]
    errs = []
    for k in REQUIRED_KEYS:
        if not isinstance(d.get(k), str):
            errs.append(f"'{k}' missing or not a string")
    extra = set(d) - set(DOC_KEYS)
    if extra:
        errs.append(f"unknown keys {sorted(extra)}")
    if "url" in d and not isinstance(d["url"], str):
        errs.append("'url' not a string")
    if "metadata" in d and not isinstance(d["metadata"], dict):
        errs.append("'metadata' not an object")
    if isinstance(d.get("id"), str) and not d["id"].strip():
        errs.append("empty id")
    if isinstance(d.get("text"), str) and not d["text"].strip():
        errs.append("empty text")
    for k in ("id", "title", "text"):
        v = d.get(k)
        if isinstance(v, str) and (_CTRL_RE.search(v) or "\x1b" in v or "\r" in v):
            errs.append(f"control characters in '{k}'")
    if isinstance(d.get("title"), str) and "\n" in d["title"]:
        errs.append("newline in title")
    return errs


def _dumps(obj) -> str:
    # ensure_ascii=False: real UTF-8 (Chinese stays readable and 3x smaller);
    # encoding below fails loudly on lone surrogates.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class AtomicWriter:
    """Write PATH.tmp, rename to PATH on success (a killed run leaves no
    half-written output that a later run would mistake for a finished one)."""

    def __init__(self, path):
        self.path = path
        self.tmp = path + ".tmp"
        self.count = 0
        self.bytes = 0

    def __enter__(self):
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        self.f = open(self.tmp, "wb")
        return self

    def write_line(self, line: str):
        b = (line + "\n").encode("utf-8")
        self.f.write(b)
        self.count += 1
        self.bytes += len(b)

    def __exit__(self, exc_type, exc, tb):
        self.f.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            os.unlink(self.tmp)
        return False


class DocWriter(AtomicWriter):
    """JSONL writer for kb documents: validates each one and refuses duplicate ids."""

    def __enter__(self):
        self.ids = set()
        return super().__enter__()

    def write(self, id, title, text, url=None, metadata=None):
        d = {"id": id, "title": title, "text": text}
        if url is not None:
            d["url"] = url
        if metadata is not None:
            d["metadata"] = metadata
        errs = validate_doc(d)
        if errs:
            raise ValueError(f"invalid document {id!r}: {'; '.join(errs)}")
        if id in self.ids:
            raise ValueError(f"duplicate id {id!r}")
        self.ids.add(id)
        self.write_line(_dumps(d))


def write_beir(out_dir, corpus, queries, qrels):
    """corpus: [(doc_id, title, text)], queries: [(query_id, text)],
    qrels: [(query_id, doc_id, score)]. Checks ids and references."""
    doc_ids = [c[0] for c in corpus]
    q_ids = [q[0] for q in queries]
    if len(set(doc_ids)) != len(doc_ids) or len(set(q_ids)) != len(q_ids):
        raise ValueError("duplicate ids in BEIR set")
    known_docs, known_q = set(doc_ids), set(q_ids)
    for qid, did, _ in qrels:
        if qid not in known_q or did not in known_docs:
            raise ValueError(f"qrel ({qid}, {did}) refers to an unknown id")
    os.makedirs(os.path.join(out_dir, "qrels"), exist_ok=True)
    with AtomicWriter(os.path.join(out_dir, "corpus.jsonl")) as w:
        for did, title, text in corpus:
            w.write_line(_dumps({"_id": did, "title": title, "text": text}))
    with AtomicWriter(os.path.join(out_dir, "queries.jsonl")) as w:
        for qid, text in queries:
            w.write_line(_dumps({"_id": qid, "text": text}))
    with AtomicWriter(os.path.join(out_dir, "qrels", "test.tsv")) as w:
        w.write_line("query-id\tcorpus-id\tscore")
        for qid, did, score in qrels:
            w.write_line(f"{qid}\t{did}\t{score}")


def write_manifest(path, manifest):
    with AtomicWriter(path) as w:
        w.write_line(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True))
