"""Tests for build_answer_sets.py (standard library only).

    python3 -m unittest corpora/lib/test_build_answer_sets.py

The parsing helpers are tested on inline examples. The invariants of the
built sets are checked on corpora/out/answers-{en,zh}/ when they exist
(corpora/build-answer-sets.sh builds them); otherwise those tests are skipped.
"""

import json
import os
import sys
import unittest
from collections import Counter

LIB = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, LIB)
import build_answer_sets as b  # noqa: E402

OUT = os.path.join(os.path.dirname(LIB), "out")


class HelperTests(unittest.TestCase):
    def test_rst_inline(self):
        self.assertEqual(b.rst_inline("Use :func:`os.remove` or :mod:`~os.path`."),
                         "Use os.remove or path.")
        self.assertEqual(b.rst_inline("see :ref:`the tutorial <tutorial-index>`"), "see the tutorial")
        self.assertEqual(b.rst_inline("the `PSF page <https://www.python.org/psf/>`_"),
                         "the PSF page (https://www.python.org/psf/)")
        self.assertEqual(b.rst_inline("``*args`` and *emphasis* and **strong**"),
                         "*args and emphasis and strong")
        self.assertEqual(b.rst_inline("x*(a+b) into x*a"), "x*(a+b) into x*a")
        self.assertEqual(b.rst_inline("described in :pep:`8`"), "described in PEP 8")

    def test_rst_to_text(self):
        src = [
            "Some prose that is",
            "wrapped over lines::",
            "",
            "   if x:",
            "       y()",
            "",
            ".. XXX a comment",
            "   that goes on",
            "",
            ".. code-block:: python",
            "",
            "   print(1)",
            "",
            "* item one",
            "  continued",
            "* item two",
        ]
        self.assertEqual(
            b.rst_to_text(src),
            "Some prose that is wrapped over lines:\n\n   if x:\n       y()\n\n"
            "   print(1)\n\n* item one continued\n* item two")

    def test_rst_headings_and_faq_levels(self):
        lines = ["=====", "Title", "=====", "", "Section", "=======", "", "Q one?", "------", "",
                 "Answer."]
        heads = b.rst_headings(lines)
        self.assertEqual([(h[1], h[2]) for h in heads],
                         [("Title", "=o"), ("Section", "="), ("Q one?", "-")])

    def test_is_question(self):
        self.assertTrue(b.is_question("How do I copy a file?", "Use shutil."))
        self.assertFalse(b.is_question("Why X?", "See the next question."))
        self.assertFalse(b.is_question("I try to use __spam and get an error.", "Text."))

    def test_sphinx_anchor(self):
        self.assertEqual(b.sphinx_anchor("What is Python?"), "what-is-python")
        self.assertEqual(b.sphinx_anchor("Why does -22 // 10 return -3?"),
                         "why-does-22-10-return-3")

    def test_packages(self):
        text = ("Package: foo\nSource: foo-src (1.0-1)\nVersion: 1:1.0-1\nMaintainer: "
                "\"Doe, Jr.\" <j@example.org>\nHomepage: https://example.org/foo/\n"
                "Description: a foo\nDescription-md5: abc\n\n"
                "Package: bar\nVersion: 2\nMaintainer: Team <t@x>\n")
        pk = b.parse_packages(text)
        self.assertEqual(pk["foo"]["Source"], "foo-src")
        self.assertEqual(pk["bar"]["Source"], "bar")
        self.assertEqual(b.maintainer_name(pk["foo"]["Maintainer"]), "Doe, Jr.")
        self.assertEqual(b.maintainer_name("Debian Perl Group <pkg-perl@x>"), "Debian Perl Group")
        self.assertEqual(b.url_alternatives("https://example.org/foo/"),
                         ["https://example.org/foo/", "example.org/foo"])
        self.assertEqual(b.version_alternatives("1:1.0-1"), ["1:1.0-1", "1.0-1"])
        self.assertEqual(b.version_alternatives("2.3-4"), ["2.3-4"])

    def test_chinese_helpers(self):
        self.assertEqual(b.poem_first_couplet("床前明月光，疑是地上霜。"), "床前明月光，疑是地上霜")
        self.assertIsNone(b.poem_first_couplet("一二三，四五六七。"))
        self.assertTrue(b.short_gloss("to reduce"))
        self.assertFalse(b.short_gloss("variant of 滅|灭"))
        self.assertFalse(b.short_gloss("CL:個|个"))
        self.assertFalse(b.short_gloss("sb"))
        self.assertEqual(b.gloss_answers(["to eat", "meal"]), ["to eat", "eat", "meal"])
        self.assertEqual(b.cedict_doc_text("電腦", "电脑", "dian4 nao3", ["computer", "PC"]),
                         "简体：电脑\n繁体：電腦\n拼音：dian4 nao3\n英文：computer; PC")

    def test_plan_splits(self):
        sizes = {"a": 100, "b": 70, "c": 70, "d": 70}
        plan = b.plan_splits(sizes, ("b", "c", "d"))
        self.assertEqual(sum(p[0] + p[1] for p in plan.values()), 50)
        self.assertEqual(sum(p[0] for p in plan.values()), 5)
        self.assertEqual(plan["a"][0] + plan["a"][2], 0)
        self.assertEqual({k: sum(p) for k, p in plan.items()}, sizes)
        self.assertEqual(b.largest_remainder(5, [1, 1, 1]), [2, 2, 1])


def _load(name):
    d = os.path.join(OUT, name)
    with open(os.path.join(d, "docs.jsonl"), encoding="utf-8") as f:
        docs = {json.loads(l)["id"]: json.loads(l) for l in f}
    with open(os.path.join(d, "questions.jsonl"), encoding="utf-8") as f:
        qs = [json.loads(l) for l in f]
    return d, docs, qs


class OutputTests(unittest.TestCase):
    def check_set(self, name, lang):
        if not os.path.exists(os.path.join(OUT, name, "questions.jsonl")):
            self.skipTest(f"{name} not built (run corpora/build-answer-sets.sh)")
        d, docs, qs = _load(name)
        keys = {"id", "question", "answers", "evidence", "answerable", "split", "kind", "lang"}
        ids = [q["id"] for q in qs]
        self.assertEqual(len(ids), len(set(ids)), "question ids not unique")
        self.assertGreaterEqual(len(qs), 220)
        self.assertTrue(2000 <= len(docs) <= 6000, len(docs))
        split = Counter(q["split"] for q in qs)
        self.assertEqual(split["dev"], 50)
        self.assertEqual(split["dev"] + split["test"], len(qs))
        for q in qs:
            self.assertEqual(set(q), keys, q["id"])
            self.assertEqual(q["lang"], lang)
            self.assertTrue(q["evidence"], q["id"])
            if q["answerable"]:
                for e in q["evidence"]:
                    self.assertIn(e, docs, f"{q['id']}: evidence {e} missing")
                if q["answers"]:
                    texts = [docs[e]["text"] for e in q["evidence"]]
                    self.assertTrue(any(a in t for a in q["answers"] for t in texts),
                                    f"{q['id']}: no answer in its evidence")
            else:
                self.assertTrue(q["answers"], q["id"])
                for e in q["evidence"]:
                    self.assertNotIn(e, docs, f"{q['id']}: removed evidence {e} is present")
        # about 10% unanswerable in each split, same kinds in dev and test
        for s in ("dev", "test"):
            n = sum(1 for q in qs if q["split"] == s)
            u = sum(1 for q in qs if q["split"] == s and not q["answerable"])
            self.assertAlmostEqual(u / n, 0.10, delta=0.02, msg=s)
        self.assertEqual({q["kind"] for q in qs if q["split"] == "dev"},
                         {q["kind"] for q in qs if q["split"] == "test"})
        # BEIR: exactly the answerable questions, judged by their evidence
        with open(os.path.join(d, "beir", "queries.jsonl"), encoding="utf-8") as f:
            beir_q = {json.loads(l)["_id"] for l in f}
        self.assertEqual(beir_q, {q["id"] for q in qs if q["answerable"]})
        with open(os.path.join(d, "beir", "qrels", "test.tsv"), encoding="utf-8") as f:
            self.assertEqual(f.readline(), "query-id\tcorpus-id\tscore\n")
            qrels = {tuple(l.rstrip("\n").split("\t")[:2]) for l in f}
        self.assertEqual(qrels, {(q["id"], e) for q in qs if q["answerable"] for e in q["evidence"]})
        return qs

    def test_english(self):
        qs = self.check_set("answers-en", "en")
        self.assertGreaterEqual(sum(1 for q in qs if q["kind"] == "faq"), 60)

    def test_chinese(self):
        self.check_set("answers-zh", "zh")


if __name__ == "__main__":
    unittest.main()
