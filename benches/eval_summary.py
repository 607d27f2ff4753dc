#!/usr/bin/env python3
"""Summary quality: lede's extractive teaser beside LEAD-k and TextRank (sumy), scored in one run with the
standard ROUGE scorer (PyPI rouge-score: ROUGE-1/2 and ROUGE-Lsum, sentences on separate lines).

Every method picks from the same sentences (`lede segment`), so the comparison is about choosing, not
splitting. English is scored with rouge-score's own tokenizer and Porter stemming; other languages with a
Unicode word tokenizer (rouge-score's default drops every non-ASCII letter) and no stemming.

    python3 benches/eval_summary.py [--eval-dir ../shared/eval] [--lede target/release/lede] [extra lede flags]

Needs: pip install rouge-score==0.1.2 sumy==0.11.0 (see benches/QUALITY.md).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

from rouge_score import rouge_scorer, tokenizers

SETS = [
    # file, sentences to pick, reference field, language label
    ("cnndm_test_frank.jsonl", 3, "reference_summary"),
    ("xsum_test.jsonl", 1, "reference_summary"),
    ("psc_pl_sample.jsonl", 5, "reference_summaries"),
    ("mlsum_sample.jsonl", 2, "reference_summary"),
]


class UnicodeWords(tokenizers.Tokenizer):
    def tokenize(self, text):
        return re.findall(r"\w+", text.lower())


class WordTokenizer:
    """sumy needs a tokenizer object; NLTK's punkt data cannot be downloaded here, and sentences come
    from lede anyway."""
    language = "english"

    def to_sentences(self, text):
        return [text]

    def to_words(self, text):
        return re.findall(r"\w+", text)


def run(cmd, stdin=None):
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return [json.loads(l) for l in p.stdout.splitlines() if l.strip()]


def scorer_for(lang):
    """rouge-score for `lang`: its own tokenizer and Porter stemming for English, Unicode words otherwise."""
    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=(lang == "en"),
                                    tokenizer=None if lang == "en" else UnicodeWords())


def references(record, field):
    """A record's reference summaries as texts (PSC: {type, ratio, author, body} per human summary)."""
    refs = record[field] if isinstance(record[field], list) else [record[field]]
    return [x["body"] if isinstance(x, dict) else x for x in refs]


def rouge_f1(scorer, refs, picked):
    """(R-1, R-2, R-Lsum) F1 of the picked sentences; with several references (PSC), the mean."""
    pred = "\n".join(picked)
    scores = [scorer.score(ref.replace(". ", ".\n") if "\n" not in ref else ref, pred) for ref in refs]
    return [sum(sc[key].fmeasure for sc in scores) / len(scores) for key in ("rouge1", "rouge2", "rougeLsum")]


def textrank(sentences, k, lang):
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    tok = WordTokenizer()
    doc = ObjectDocumentModel([Paragraph([Sentence(s, tok) for s in sentences])])
    summ = TextRankSummarizer()
    try:
        summ.stop_words = get_stop_words({"en": "english", "de": "german", "fr": "french", "es": "spanish",
                                          "ru": "russian", "pl": "polish"}.get(lang, "english"))
    except LookupError:
        pass
    picked = {str(s) for s in summ(doc, k)}
    return [s for s in sentences if s in picked][:k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "eval"))
    ap.add_argument("--lede", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "lede"))
    ap.add_argument("--sets", default=",".join(s[0].split(".")[0] for s in SETS))
    args, extra = ap.parse_known_args()
    wanted = args.sets.split(",")
    rows = []
    for fname, k, ref_field in SETS:
        if fname.split(".")[0] not in wanted:
            continue
        path = os.path.join(args.eval_dir, fname)
        records = [json.loads(l) for l in open(path, encoding="utf-8")]
        segs = {r["id"]: r for r in run([args.lede, "segment", path])}
        out = run([args.lede, "enrich", "--quiet", "--no-topics", "--no-keywords", path, "--summary-sentences", str(k),
                   "--summary-chars", "100000"] + extra)
        ours = {r["id"]: r["lede"].get("summary", {}) for r in out}
        by_lang = {}
        for r in records:
            by_lang.setdefault(r["lang"], []).append(r)
        for lang, recs in sorted(by_lang.items()):
            scorer = scorer_for(lang)
            totals = {m: [0.0, 0.0, 0.0] for m in ("lede", f"LEAD-{k}", "TextRank")}
            n = 0
            for r in recs:
                sents = segs[r["id"]]["sentences"]
                s = ours.get(r["id"], {})
                picks = {
                    "lede": [sents[i] for i in s.get("sentences", [])] if s.get("sentences") is not None
                    else ([s["text"]] if s.get("text") else []),
                    f"LEAD-{k}": sents[:k],
                    "TextRank": textrank(sents, k, lang),
                }
                refs = references(r, ref_field)
                for m, p in picks.items():
                    for j, f1 in enumerate(rouge_f1(scorer, refs, p)):
                        totals[m][j] += f1
                n += 1
            for m, t in totals.items():
                rows.append((fname.split(".")[0], lang, n, m, *(100 * x / n for x in t)))
    print(f"| set | lang | n | method | R-1 | R-2 | R-Lsum |\n|---|---|---|---|---|---|---|")
    for row in rows:
        print("| %s | %s | %d | %s | %.2f | %.2f | %.2f |" % row)


if __name__ == "__main__":
    main()
