"""Builds the question-answering evaluation sets corpora/out/answers-en/ and
corpora/out/answers-zh/ (run through build-answer-sets.sh).

usage: build_answer_sets.py --apt-lists DIR --faq-dir DIR --tang300 FILE
           --cedict-wheel WHEEL --out-en DIR --out-zh DIR --manifest FILE [--seed N]

Each output folder holds
  docs.jsonl       the knowledge base (kb document format);
  questions.jsonl  {"id","question","answers","evidence","answerable","split","kind","lang"};
  beir/            the answerable questions as a BEIR retrieval set.

English: one document per Python FAQ entry (python3.11-doc reST sources) and
per package of a seeded sample of Debian bookworm/main packages (amd64
Packages index + Translation-en). Questions: the FAQ headings that are
questions (kind "faq", answers []), and templates over the Homepage, Version
and Maintainer fields ("debian-homepage", "debian-version",
"debian-maintainer").

Chinese: one document per Tang poem of fortunes-zh's tang300 and per entry of
a seeded sample of CC-CEDICT. Questions: templates over the poem's author
("poem-author") and title ("poem-title"), and the entry's pinyin
("cedict-pinyin") and English glosses ("cedict-english").

Unanswerable questions: their evidence document is left out of docs.jsonl.
Only templated kinds are used for them, and only items whose name (package
name, poem title, Chinese word) occurs in no other document of the base, so
the base holds nothing about them.
"""

import argparse
import hashlib
import os
import random
import re
import sys
import unicodedata
from collections import Counter, OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_chinese as chinese_corpus  # noqa: E402  (its CC-CEDICT reader)
from corpus_io import AtomicWriter, DocWriter, _dumps, clean_line, clean_text, write_beir, write_manifest  # noqa: E402
from debian_descriptions import (  # noqa: E402
    _cat,
    _paragraphs,
    archive_info,
    load_descriptions,
    package_url,
    packages_path,
)

# --------------------------------------------------------------------------
# Sizes (per language). Questions per kind; dev is exactly DEV_SIZE per
# language, about UNANSWERABLE_SHARE of each split is unanswerable.

DEV_SIZE = 50
UNANSWERABLE_SHARE = 0.10
N_DEBIAN_DOCS = 3000
N_CEDICT_DOCS = 4000
QUESTIONS_EN = OrderedDict([("faq", 100), ("debian-homepage", 70), ("debian-version", 70),
                            ("debian-maintainer", 70)])
QUESTIONS_ZH = OrderedDict([("poem-author", 60), ("poem-title", 60), ("cedict-pinyin", 70),
                            ("cedict-english", 70)])
# kinds whose evidence can be removed (see the module docstring)
UNANSWERABLE_KINDS = ("debian-homepage", "debian-version", "debian-maintainer",
                      "poem-author", "poem-title", "cedict-pinyin", "cedict-english")

# A package name counts as a common word (an English word or a much-mentioned
# tool) when it occurs as a whole word in the long descriptions of at least
# this many other packages; such packages get no question.
COMMON_NAME_MIN_DOCS = 3
# "Who maintains X?" is asked only where the maintainer (by name) maintains at
# most this many source packages in bookworm main: a team such as "Debian Perl
# Group" (thousands of packages) could be guessed from the package name alone.
MAX_MAINTAINER_SOURCES = 10

TEMPLATES = {
    "debian-homepage": [
        "What is the homepage of the Debian package {name}?",
        "Where is the upstream homepage of the Debian package {name}?",
        "Which website is listed as the homepage of the Debian package {name}?",
    ],
    "debian-version": [
        "Which version of {name} does Debian 12 (bookworm) ship?",
        "What version of the package {name} is in Debian 12 (bookworm)?",
        "Debian 12 (bookworm) ships which version of {name}?",
    ],
    "debian-maintainer": [
        "Who maintains the Debian package {name}?",
        "Who is the maintainer of the Debian package {name}?",
        "Which person or team maintains {name} in Debian?",
    ],
    "poem-author": ["《{title}》的作者是谁？", "《{title}》是谁写的？"],
    "poem-title": ["“{line}”出自哪首诗？", "“{line}”是哪首唐诗里的句子？"],
    "cedict-pinyin": ["“{word}”的拼音是什么？", "“{word}”怎么读？请给出拼音。"],
    "cedict-english": ["“{word}”用英文怎么说？", "“{word}”的英文意思是什么？"],
}

# --------------------------------------------------------------------------
# Python FAQ (reST sources shipped as _sources/faq/*.rst.txt)

FAQ_URL = "https://docs.python.org/3.11/faq/{page}.html#{anchor}"
_ADORN_RE = re.compile(r"^([=\-~^\"'`#*+:.])\1{2,}\s*$")
_DIRECTIVE_RE = re.compile(r"^(\s*)\.\.\s+(?:(\w[\w-]*)::|_[^:]*:|\|)?")
# directives whose whole block goes; directives whose body is kept as text
_DROP_DIRECTIVES = {"only", "contents", "index", "toctree", "highlight", "testsetup",
                    "testcleanup", "sectionauthor", "tabularcolumns", "include", "image"}
_LABELS = {"note": "Note:", "seealso": "See also:", "warning": "Warning:", "tip": "Tip:",
           "versionadded": "New in version", "versionchanged": "Changed in version",
           "deprecated": "Deprecated since version"}
_ROLE_RE = re.compile(r":(?:[\w-]+:)?([\w-]+):`([^`]+)`")
_LINK_RE = re.compile(r"`([^`<]+?)\s*<([^`>]+)>`__?")
_BARE_LINK_RE = re.compile(r"`([^`<]+)`__?")
_LITERAL_RE = re.compile(r"``(.+?)``")
_STRONG_RE = re.compile(r"(?<![\w*])\*\*(\S(?:.*?\S)?)\*\*(?![\w*])")
_EMPH_RE = re.compile(r"(?<![\w*\\])\*(\S(?:[^*]*?\S)?)\*(?![\w*])")
_LIST_RE = re.compile(r"^(?:[-*+\u2022]|\d{1,3}[.)]|#\.)\s")


def _role_text(inner, role=""):
    if role in ("pep", "rfc") and re.fullmatch(r"\d+", inner):
        return f"{role.upper()} {inner}"
    m = re.match(r"^(.*?)\s*<([^<>]+)>$", inner, re.S)
    if m and m.group(1):
        return m.group(1)
    inner = inner.lstrip("!")
    if inner.startswith("~"):
        inner = inner[1:].rsplit(".", 1)[-1]
    return inner


def rst_inline(s):
    """Inline reST markup to plain text: roles, links, ``literals``, *emphasis*."""
    out = []
    # ``literal`` text is kept verbatim (it may hold * or `)
    pos = 0
    for m in _LITERAL_RE.finditer(s):
        out.append(_rst_inline_plain(s[pos:m.start()]))
        out.append(m.group(1))
        pos = m.end()
    out.append(_rst_inline_plain(s[pos:]))
    return "".join(out)


def _rst_inline_plain(s):
    s = _ROLE_RE.sub(lambda m: _role_text(m.group(2), m.group(1)), s)
    s = _LINK_RE.sub(lambda m: f"{m.group(1)} ({m.group(2)})"
                     if not m.group(2).startswith(m.group(1)) else m.group(2), s)
    s = _BARE_LINK_RE.sub(r"\1", s)
    s = _STRONG_RE.sub(r"\1", s)
    s = _EMPH_RE.sub(r"\1", s)
    return s.replace("\\*", "*")


def rst_headings(lines):
    """[(line_index, text, style)] of the section headings of a reST file.
    style is the adornment character plus 'o' when it has an overline."""
    out = []
    i = 0
    while i < len(lines) - 1:
        line, nxt = lines[i], lines[i + 1]
        if (line.strip() and not line.startswith(" ") and _ADORN_RE.match(nxt)
                and len(nxt.strip()) >= len(line.strip()) and not _ADORN_RE.match(line)):
            over = i > 0 and lines[i - 1].strip() == nxt.strip()
            out.append((i, line.strip(), nxt.strip()[0] + ("o" if over else "")))
            i += 2
            continue
        i += 1
    return out


def _block_end(lines, i, indent):
    """Index after the indented block that belongs to the directive at line i."""
    j = i + 1
    while j < len(lines) and (not lines[j].strip() or
                              len(lines[j]) - len(lines[j].lstrip()) > indent):
        j += 1
    # trailing blank lines are not part of the block
    while j > i + 1 and not lines[j - 1].strip():
        j -= 1
    return j


def rst_to_text(body_lines):
    """Lightly cleaned text of a reST fragment: directives, comments and
    labels dropped (code-block / doctest / note bodies kept), inline markup
    removed, prose paragraphs joined into one line, literal blocks (after
    '::') and other indented blocks kept verbatim."""
    lines = []
    i = 0
    while i < len(body_lines):
        line = body_lines[i]
        m = _DIRECTIVE_RE.match(line)
        if not m:
            lines.append(line)
            i += 1
            continue
        indent, name = len(m.group(1)), m.group(2)
        end = _block_end(body_lines, i, indent)
        if name is None or name in _DROP_DIRECTIVES:  # comment, label, substitution
            i = end
            continue
        # keep the body (code-block, doctest, note, ...), minus its options
        j = i + 1
        while j < end and re.match(r"^\s+:[\w-]+:", body_lines[j]):
            j += 1
        label = _LABELS.get(name)
        if label:
            arg = line[m.end():].strip()
            lines.append(" " * indent + (f"{label} {arg}" if arg else label))
            lines.append("")
            lines.extend(body_lines[j:end])
        else:
            lines.append(" " * indent + "::")  # the body is literal text
            lines.extend(body_lines[j:end])
        i = end

    # paragraphs (blank-line separated); literal blocks follow a paragraph ending in '::'
    paras, cur = [], []
    for line in lines + [""]:
        if line.strip():
            cur.append(line.rstrip())
        elif cur:
            paras.append(cur)
            cur = []
    out = []
    literal_next = False
    literal_indent = None
    for p in paras:
        indent = min(len(l) - len(l.lstrip()) for l in p)
        if literal_next and indent > literal_indent:
            out.append("\n".join(l[literal_indent:] for l in p))
            continue
        literal_next = False
        if p[-1].rstrip().endswith("::"):
            # the literal block is indented more than the line that holds the '::'
            # (for a list item's line: more than the item's text)
            marker = _LIST_RE.match(p[-1].lstrip())
            literal_next = True
            literal_indent = len(p[-1]) - len(p[-1].lstrip()) + (marker.end() if marker else 0)
            last = p[-1].rstrip()[:-2].rstrip()
            p = p[:-1] + ([last + ":"] if last.strip() else [])
            if not p:
                continue
        if p[0].lstrip().startswith(">>>"):  # doctest block: verbatim
            out.append("\n".join(l[indent:] for l in p))
            continue
        # prose, block quotes and lists: wrapped lines joined, a list item starts a line
        joined = []
        for l in p:
            l = l.strip()
            if joined and not _LIST_RE.match(l):
                joined[-1] += " " + l
            else:
                joined.append(l)
        out.append("\n".join(rst_inline(l) for l in joined))
    return clean_text("\n\n".join(out))


def sphinx_anchor(text):
    """The id docutils gives a section title (docutils.nodes.make_id)."""
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"[^a-z0-9]+", "-", s)
    return re.sub(r"^[^a-z]+", "", s).strip("-")


def faq_entries(faq_dir):
    """(page, page_title, heading, body_text, label) for every FAQ entry, i.e. every
    heading of the deepest section level of each FAQ page (index.rst excluded)."""
    for fn in sorted(os.listdir(faq_dir)):
        if not fn.endswith((".rst.txt", ".rst", ".txt")) or fn.startswith("index."):
            continue
        page = fn.split(".", 1)[0]
        with open(os.path.join(faq_dir, fn), encoding="utf-8") as f:
            lines = f.read().replace("\r\n", "\n").split("\n")
        heads = rst_headings(lines)
        if not heads:
            continue
        styles = list(OrderedDict.fromkeys(h[2] for h in heads))  # docutils: order of first use
        page_title = heads[0][1]
        deepest = styles[-1] if len(styles) > 1 else None
        for k, (i, text, style) in enumerate(heads):
            if style != deepest:
                continue
            end = heads[k + 1][0] - (1 if heads[k + 1][2].endswith("o") else 0) \
                if k + 1 < len(heads) else len(lines)
            body = rst_to_text(lines[i + 2:end])
            if body:
                yield page, clean_line(page_title), clean_line(rst_inline(text)), body


def is_question(heading, body):
    """A FAQ heading is used as a question when it is phrased as one (ends
    with '?') and its entry answers it instead of pointing elsewhere (the
    answer does not start with 'See ', as in 'See the next question.')."""
    return heading.rstrip().endswith("?") and not body.startswith("See ")


# --------------------------------------------------------------------------
# Debian packages


def parse_packages(text):
    """{package: {field: value}} of a Packages index (first stanza per name);
    only the one-line fields used here, plus the synopsis."""
    want = ("Package", "Source", "Version", "Section", "Maintainer", "Homepage",
            "Description", "Description-md5")
    out = {}
    for para in _paragraphs(text):
        fields = {}
        for line in para:
            if line[:1] in (" ", "\t"):
                continue
            k, sep, v = line.partition(":")
            if sep and k in want:
                fields[k] = v.strip()
        pkg = fields.get("Package")
        if pkg and pkg not in out:
            fields["Source"] = fields.get("Source", pkg).split(" ")[0]
            out[pkg] = fields
    return out


def maintainer_name(field):
    """'Full Name <email>' -> 'Full Name' ('"Name, Jr." <e>' -> 'Name, Jr.')."""
    name = re.sub(r"\s*<[^>]*>\s*$", "", field).strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].strip()
    return name


def url_alternatives(url):
    """The URL, and the URL without scheme and trailing slash."""
    bare = re.sub(r"^[a-z]+://", "", url).rstrip("/")
    return [url] + ([bare] if bare and bare != url else [])


def version_alternatives(version):
    """The version, and the version without its epoch ('1:2.3-4' -> '2.3-4')."""
    out = [version]
    if re.match(r"^\d+:", version):
        out.append(version.split(":", 1)[1])
    return out


def debian_doc_text(f, long_text):
    head = [f"Package: {f['Package']}", f"Version: {f['Version']}",
            f"Section: {f.get('Section', '')}", f"Maintainer: {f['Maintainer']}",
            f"Homepage: {f['Homepage']}"]
    return clean_text("\n".join(head) + "\n\n" + f["Description"] + "\n\n" + long_text)


_WORD_RE = re.compile(r"[a-z0-9][a-z0-9+.\-]*[a-z0-9+]|[a-z0-9]")


def name_doc_frequency(descs):
    """{lowercased word: number of long descriptions it occurs in}."""
    df = Counter()
    for d in descs:
        df.update(set(_WORD_RE.findall(d.text.lower())))
    return df


# --------------------------------------------------------------------------
# Chinese sources

_IDEO = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_WORD_RE = re.compile(f"^[{_IDEO}]{{2,4}}$")
_PINYIN_RE = re.compile(r"^[a-z]+[1-5](?: [a-z]+[1-5])*$")
_GLOSS_BAD_RE = re.compile(r"[()\[\]|:;\"/]|\bvariant of\b|\bsee\b|\babbr\b|\bsurname\b|"
                           r"\bCL\b|\bold\b|\bclassifier\b|\bsth\b|\bsb\b|\bpr\.|\bi\.e\.|\be\.g\.",
                           re.I)


def parse_tang300(path):
    """[(n, title, author, lines)] of the poems of fortunes-zh's tang300 (n =
    1-based position in the file, as build_chinese.py numbers entries)."""
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    out = []
    for n, entry in enumerate(re.split(r"(?m)^%\n", raw), 1):
        text = clean_text(entry)
        if not text:
            continue
        lines = [clean_line(l) for l in text.split("\n") if clean_line(l)]
        m = re.match(r"^《(.+)》$", lines[0])
        a = re.match(r"^作者：(.+)$", lines[1]) if len(lines) > 1 else None
        if not m or not a or len(lines) < 3:
            raise ValueError(f"unexpected tang300 entry {n}: {lines[:2]!r}")
        out.append((n, m.group(1), a.group(1), lines[2:]))
    return out


def poem_first_couplet(line):
    """'床前明月光，疑是地上霜。' -> '床前明月光，疑是地上霜' (None when the
    line is not two clauses of 4-7 characters)."""
    s = line.rstrip("。？！；，")
    parts = s.split("，")
    if len(parts) == 2 and all(re.fullmatch(f"[{_IDEO}]{{4,7}}", p) for p in parts):
        return s
    return None


def read_cedict(wheel):
    """[(n, traditional, simplified, pinyin, [glosses])]; n = 1-based entry number (build_chinese's reader)."""
    return [(n, trad, simp, pinyin, [clean_line(g) for g in glosses])
            for n, trad, simp, pinyin, glosses in chinese_corpus.cedict(wheel)]


def short_gloss(g):
    """A gloss usable as a reference answer: 1-3 plain words, 3-25 characters."""
    return (3 <= len(g) <= 25 and len(g.split()) <= 3 and not _GLOSS_BAD_RE.search(g)
            and re.fullmatch(r"[A-Za-z][A-Za-z '\-.]*", g) is not None)


def gloss_answers(glosses):
    """Each gloss, plus the bare verb of 'to VERB' glosses."""
    out = []
    for g in glosses:
        for a in (g, g[3:] if g.startswith("to ") else None):
            if a and len(a) >= 3 and a not in out:
                out.append(a)
    return out


def cedict_doc_text(trad, simp, pinyin, glosses):
    return clean_text(f"简体：{simp}\n繁体：{trad}\n拼音：{pinyin}\n英文：{'; '.join(glosses)}")


# --------------------------------------------------------------------------
# Selection, splits, output


def largest_remainder(total, weights):
    """Integers proportional to weights that sum to total (ties: first wins)."""
    s = sum(weights)
    if s == 0:
        return [0] * len(weights)
    exact = [total * w / s for w in weights]
    out = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def plan_splits(kind_sizes, unanswerable_ok, dev_size=DEV_SIZE, share=UNANSWERABLE_SHARE):
    """{kind: (dev_unanswerable, dev_answerable, test_unanswerable, test_answerable)}.
    Dev gets dev_size questions in proportion to the kinds; in each split,
    round(share * split size) questions are unanswerable, spread over the
    kinds in unanswerable_ok in proportion to their share of the split."""
    kinds = list(kind_sizes)
    dev = largest_remainder(dev_size, [kind_sizes[k] for k in kinds])
    test = [kind_sizes[k] - d for k, d in zip(kinds, dev)]
    ok = [k in unanswerable_ok for k in kinds]
    u_dev = largest_remainder(round(share * sum(dev)), [d if o else 0 for d, o in zip(dev, ok)])
    u_test = largest_remainder(round(share * sum(test)), [t if o else 0 for t, o in zip(test, ok)])
    return {k: (u_dev[i], dev[i] - u_dev[i], u_test[i], test[i] - u_test[i])
            for i, k in enumerate(kinds)}


def assign(items, plan, isolated):
    """items: the kind's candidate questions in seeded order, each a dict with
    'evidence'. Returns them with 'split' and 'answerable' set: unanswerable
    ones are the first items whose evidence is isolated (see module doc)."""
    u_dev, a_dev, u_test, a_test = plan
    need = u_dev + a_dev + u_test + a_test
    unans_pool = [q for q in items if all(isolated(e) for e in q["evidence"])]
    unans = unans_pool[: u_dev + u_test]
    if len(unans) < u_dev + u_test:
        raise ValueError("not enough candidates for unanswerable questions")
    chosen_ids = {id(q) for q in unans}
    rest = [q for q in items if id(q) not in chosen_ids][: a_dev + a_test]
    if len(rest) < a_dev + a_test:
        raise ValueError(f"not enough candidates: {len(items)} for {need}")
    for k, q in enumerate(unans):
        q.update(answerable=False, split="dev" if k < u_dev else "test")
    for k, q in enumerate(rest):
        q.update(answerable=True, split="dev" if k < a_dev else "test")
    return unans + rest


def finish_questions(lang, by_kind):
    """Ids (LANG-KIND-NNN, numbered in the kind's order: dev first) and key order."""
    out = []
    for kind, qs in by_kind.items():
        # dev first; within a split in an order unrelated to answerability
        qs = sorted(qs, key=lambda q: (q["split"] != "dev",
                                       hashlib.sha256(q["question"].encode()).hexdigest()))
        for k, q in enumerate(qs, 1):
            out.append({"id": f"{lang}-{kind}-{k:03d}", "question": q["question"],
                        "answers": q["answers"], "evidence": q["evidence"],
                        "answerable": q["answerable"], "split": q["split"],
                        "kind": kind, "lang": lang})
    out.sort(key=lambda q: (q["split"] != "dev", q["id"]))
    return out


def check_answers_in_text(questions, texts):
    for q in questions:
        if q["answers"]:
            if not any(a in texts[e] for e in q["evidence"] for a in q["answers"]):
                raise ValueError(f"{q['id']}: no answer occurs in its evidence")
            for a in q["answers"]:
                if not any(a in texts[e] for e in q["evidence"]):
                    raise ValueError(f"{q['id']}: answer {a!r} not in its evidence")


def write_set(out_dir, docs, questions):
    """docs: [(id, title, text, url, metadata)] (all candidates); the evidence of
    unanswerable questions is left out. Writes docs.jsonl, questions.jsonl, beir/."""
    removed = {e for q in questions if not q["answerable"] for e in q["evidence"]}
    kept_ids = set()
    with DocWriter(os.path.join(out_dir, "docs.jsonl")) as w:
        for did, title, text, url, meta in docs:
            if did in removed:
                continue
            w.write(id=did, title=title, text=text, url=url, metadata=meta)
            kept_ids.add(did)
    for q in questions:
        inside = [e in kept_ids for e in q["evidence"]]
        if q["answerable"] != all(inside) or any(inside) != all(inside):
            raise ValueError(f"{q['id']}: evidence/answerable mismatch")
    with AtomicWriter(os.path.join(out_dir, "questions.jsonl")) as qw:
        for q in questions:
            qw.write_line(_dumps(q))
    answerable = [q for q in questions if q["answerable"]]
    write_beir(os.path.join(out_dir, "beir"),
               [(d[0], d[1], d[2]) for d in docs if d[0] in kept_ids],
               [(q["id"], q["question"]) for q in answerable],
               [(q["id"], e, 1) for q in answerable for e in q["evidence"]])
    return {"documents": w.count, "docs_bytes": w.bytes, "documents_removed": len(removed),
            "questions": len(questions), "beir_queries": len(answerable)}


def counts(questions):
    c = OrderedDict()
    for q in questions:
        key = f"{q['kind']}/{q['split']}/{'answerable' if q['answerable'] else 'unanswerable'}"
        c[key] = c.get(key, 0) + 1
    return OrderedDict(sorted(c.items()))


def isolated_in(docs, name, own_id, fold=False):
    """True when `name` occurs in no document other than own_id (title or text)."""
    n = name.casefold() if fold else name
    for did, title, text, _, _ in docs:
        if did == own_id:
            continue
        hay = f"{title}\n{text}"
        if n in (hay.casefold() if fold else hay):
            return False
    return True


# --------------------------------------------------------------------------
# English


def build_english(args, seed):
    # FAQ documents and questions
    docs, faq_q = [], []
    entries = list(faq_entries(args.faq_dir))
    heading_count = Counter(h.casefold() for _, _, h, _ in entries)
    used_ids = set()
    for page, page_title, heading, body in entries:
        anchor = sphinx_anchor(heading) or "entry"
        did = f"python-faq:{page}:{anchor}"
        url = FAQ_URL.format(page=page, anchor=anchor)
        k = 2
        while did in used_ids:  # Sphinx names the second such section "id1": no anchor
            did, k = f"python-faq:{page}:{anchor}-{k}", k + 1
            url = url.split("#")[0]
        used_ids.add(did)
        docs.append((did, f"{page_title}: {heading}", body, url,
                     {"source": "python-faq", "page": page}))
        # a heading asked twice (e.g. "What is Python?") has two right documents: no question
        if is_question(heading, body) and heading_count[heading.casefold()] == 1:
            faq_q.append({"question": heading, "answers": [], "evidence": [did]})
    faq_stats = {"faq_entries": len(entries), "faq_questions_eligible": len(faq_q)}

    # Debian packages: one per source package, with a Homepage and a long description
    pk = parse_packages(_cat(packages_path(args.apt_lists)))
    descs = {d.package: d for d in load_descriptions(args.apt_lists, "en")}
    df = name_doc_frequency(descs.values())
    eligible = [p for p in sorted(pk)
                if re.fullmatch(r"https?://\S+", pk[p].get("Homepage", ""))
                and p in descs and descs[p].text and pk[p].get("Maintainer")
                and maintainer_name(pk[p]["Maintainer"])
                and pk[p].get("Description")]
    by_source = OrderedDict()
    for p in eligible:  # the package named after its source wins, else the first by name
        s = pk[p]["Source"]
        if s not in by_source or p == s:
            by_source[s] = p
    pool = sorted(by_source.values())
    sources_of = {}
    for f in pk.values():
        sources_of.setdefault(maintainer_name(f.get("Maintainer", "")), set()).add(f["Source"])
    rng = random.Random(f"{seed}:debian-sample")
    sample = sorted(rng.sample(pool, min(N_DEBIAN_DOCS, len(pool))))
    for p in sample:
        f = pk[p]
        docs.append((f"debian:{p}", p, debian_doc_text(f, descs[p].text), package_url(p),
                     {"source": "debian", "package": p}))
    texts = {d[0]: d[2] for d in docs}

    # templated questions: packages whose name is not a common word, one kind per package
    distinctive = [p for p in sample if df.get(p.lower(), 0) - (p.lower() in _WORD_RE.findall(
        descs[p].text.lower())) < COMMON_NAME_MIN_DOCS]
    rng = random.Random(f"{seed}:debian-questions")
    rng.shuffle(distinctive)
    kinds = [k for k in QUESTIONS_EN if k.startswith("debian-")]
    per_kind = {k: [] for k in kinds}
    k = 0
    for p in distinctive:
        kind = kinds[k % len(kinds)]
        f = pk[p]
        if kind == "debian-maintainer" and \
                len(sources_of[maintainer_name(f["Maintainer"])]) > MAX_MAINTAINER_SOURCES:
            continue  # the package stays a distractor
        k += 1
        tmpl = rng.choice(TEMPLATES[kind])
        if kind == "debian-homepage":
            answers = url_alternatives(f["Homepage"])
        elif kind == "debian-version":
            answers = version_alternatives(f["Version"])
        else:
            answers = [maintainer_name(f["Maintainer"])]
        per_kind[kind].append({"question": tmpl.format(name=p), "answers": answers,
                               "evidence": [f"debian:{p}"]})

    rng = random.Random(f"{seed}:faq-questions")
    rng.shuffle(faq_q)
    plan = plan_splits(QUESTIONS_EN, UNANSWERABLE_KINDS)
    iso_cache = {}

    def isolated(did):
        if did not in iso_cache:
            name = did.split(":", 1)[1]
            iso_cache[did] = did.startswith("debian:") and isolated_in(docs, name, did, fold=True)
        return iso_cache[did]

    by_kind = OrderedDict()
    for kind in QUESTIONS_EN:
        items = faq_q if kind == "faq" else per_kind[kind]
        by_kind[kind] = assign(items, plan[kind], isolated)
    questions = finish_questions("en", by_kind)
    check_answers_in_text(questions, texts)
    stats = write_set(args.out_en, docs, questions)
    stats.update(faq_stats)
    stats.update({"debian_packages_eligible": len(eligible),
                  "debian_source_packages_eligible": len(pool),
                  "debian_documents_sampled": len(sample),
                  "debian_distinctive_names": len(distinctive),
                  "question_counts": counts(questions)})
    return stats


# --------------------------------------------------------------------------
# Chinese


def build_chinese(args, seed):
    docs = []
    poems = parse_tang300(args.tang300)
    title_count = Counter(t for _, t, _, _ in poems)
    couplet_count = Counter(poem_first_couplet(ls[0]) for _, _, _, ls in poems)
    poem_q_pool = []
    for n, title, author, lines in poems:
        did = f"fortune-zh:tang300:{n}"
        docs.append((did, f"《{title}》 作者：{author}",
                     clean_text(f"《{title}》\n作者：{author}\n" + "\n".join(lines)), None,
                     {"source": "fortunes-zh", "file": "tang300", "author": author}))
        couplet = poem_first_couplet(lines[0])
        if title_count[title] == 1 and couplet and couplet_count[couplet] == 1:
            poem_q_pool.append((did, title, author, couplet))

    cedict = read_cedict(args.cedict_wheel)
    simp_count = Counter(e[2] for e in cedict)
    eligible = [e for e in cedict
                if _HAN_WORD_RE.match(e[2]) and simp_count[e[2]] == 1 and len(e[4]) >= 2]
    rng = random.Random(f"{seed}:cedict-sample")
    sample = sorted(rng.sample(eligible, min(N_CEDICT_DOCS, len(eligible))))
    for n, trad, simp, pinyin, glosses in sample:
        docs.append((f"cedict:{n}", simp, cedict_doc_text(trad, simp, pinyin, glosses), None,
                     {"source": "cc-cedict"}))
    texts = {d[0]: d[2] for d in docs}

    # poems: authors asked for one half, titles for the other (no poem twice)
    rng = random.Random(f"{seed}:poem-questions")
    rng.shuffle(poem_q_pool)
    per_kind = {"poem-author": [], "poem-title": [], "cedict-pinyin": [], "cedict-english": []}
    for k, (did, title, author, couplet) in enumerate(poem_q_pool):
        if k % 2 == 0:
            per_kind["poem-author"].append({
                "question": rng.choice(TEMPLATES["poem-author"]).format(title=title),
                "answers": [author], "evidence": [did]})
        else:
            per_kind["poem-title"].append({
                "question": rng.choice(TEMPLATES["poem-title"]).format(line=couplet),
                "answers": [title, f"《{title}》"], "evidence": [did]})
    # CC-CEDICT: plain lowercase pinyin (no proper nouns, no u:); short glosses
    rng = random.Random(f"{seed}:cedict-questions")
    cands = [e for e in sample if _PINYIN_RE.match(e[3])]
    rng.shuffle(cands)
    for k, (n, trad, simp, pinyin, glosses) in enumerate(cands):
        if k % 2 == 0:
            per_kind["cedict-pinyin"].append({
                "question": rng.choice(TEMPLATES["cedict-pinyin"]).format(word=simp),
                "answers": [pinyin], "evidence": [f"cedict:{n}"]})
        elif all(short_gloss(g) for g in glosses) and len(glosses) <= 4:
            per_kind["cedict-english"].append({
                "question": rng.choice(TEMPLATES["cedict-english"]).format(word=simp),
                "answers": gloss_answers(glosses), "evidence": [f"cedict:{n}"]})

    titles = {d[0]: d[1] for d in docs}
    iso_cache = {}

    def isolated(did):
        if did not in iso_cache:
            if did.startswith("cedict:"):
                name = titles[did]
            else:
                name = re.match(r"^《(.+)》", titles[did]).group(1)
            iso_cache[did] = isolated_in(docs, name, did)
        return iso_cache[did]

    plan = plan_splits(QUESTIONS_ZH, UNANSWERABLE_KINDS)
    by_kind = OrderedDict()
    for kind in QUESTIONS_ZH:
        by_kind[kind] = assign(per_kind[kind], plan[kind], isolated)
    questions = finish_questions("zh", by_kind)
    check_answers_in_text(questions, texts)
    stats = write_set(args.out_zh, docs, questions)
    stats.update({"tang300_poems": len(poems), "poems_eligible_for_questions": len(poem_q_pool),
                  "cedict_entries": len(cedict), "cedict_eligible": len(eligible),
                  "cedict_documents_sampled": len(sample),
                  "question_counts": counts(questions)})
    return stats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for a in ("--apt-lists", "--faq-dir", "--tang300", "--cedict-wheel", "--out-en", "--out-zh",
              "--manifest"):
        ap.add_argument(a, required=True)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    en = build_english(args, args.seed)
    zh = build_chinese(args, args.seed)
    write_manifest(args.manifest, {
        "outputs": ["answers-en", "answers-zh"],
        "seed": args.seed,
        "dev_questions_per_language": DEV_SIZE,
        "unanswerable_share": UNANSWERABLE_SHARE,
        "answers-en": en,
        "answers-zh": zh,
        "debian_archive": archive_info(args.apt_lists),
        "source_packages": os.environ.get("CORPUS_SOURCES", "").split(),
    })
    for lang, s in (("en", en), ("zh", zh)):
        print(f"answers-{lang}: {s['documents']} documents ({s['documents_removed']} removed), "
              f"{s['questions']} questions", file=sys.stderr)


if __name__ == "__main__":
    main()
