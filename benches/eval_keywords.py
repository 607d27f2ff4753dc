#!/usr/bin/env python3
"""Keyword quality: F1@10 against the gold keyphrases, exact match after lowercasing and stemming (Porter for
English as in the keyphrase literature, Snowball for French, Stempel, Lucene's Polish stemmer, for Polish),
averaged over documents. Beside lede, in the same run on the same documents (title + text):
  - YAKE (PyPI `yake`, defaults: 1-3 words, top 10, its own stopwords for the language);
  - KeyBERT (PyPI `keybert`) with the all-MiniLM-L6-v2 weights from lede's set-up and the Stopwords-ISO list
    of the language (PyPI `stopwordsiso`, the lists lede uses): 1-3-grams with MMR (diversity 0.5), the set-up
    the task asks for, and single words (KeyBERT's default n-gram range), which is much stronger on
    KPCrowd because its gold keyphrases are mostly single words.

    python3 benches/eval_keywords.py [--eval-dir ../shared/eval] [--lede target/release/lede]
                                     [--sets news,inspec,pl,fr] [--limit N] [--only lede,yake,kb3,kb1]
                                     [extra lede flags]

Needs: pip install yake keybert sentence-transformers stopwordsiso pystempel nltk
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
SETS = {
    "news": "kp_500n_kpcrowd_news",
    "inspec": "kp_inspec_sample",
    "pl": "kp_pak2018_pl",
    "fr": "kp_wikinews_fr",
}
K = 10


def stemmer(lang):
    if lang == "pl":
        from pystempel import Stemmer

        st = Stemmer.default()
        return lambda w: st(w) or w
    if lang == "en":
        from nltk.stem import PorterStemmer

        return PorterStemmer().stem
    from nltk.stem import SnowballStemmer

    return SnowballStemmer({"fr": "french", "de": "german", "es": "spanish", "ru": "russian"}[lang]).stem


_STEMMERS = {}


def norm(phrase, lang):
    if lang not in _STEMMERS:
        _STEMMERS[lang] = stemmer(lang)
    st = _STEMMERS[lang]
    return " ".join(st(t) for t in re.findall(r"\w+", phrase.lower()))


def f1_at_k(predictions, docs, k=K):
    total = 0.0
    for pred, doc in zip(predictions, docs):
        lang = doc["lang"]
        gold = {norm(g, lang) for g in doc["gold_tags"]} - {""}
        seen = []
        for p in pred:
            n = norm(p, lang)
            if n and n not in seen:
                seen.append(n)
        seen = seen[:k]
        hits = sum(1 for p in seen if p in gold)
        if hits:
            precision, recall = hits / len(seen), hits / len(gold)
            total += 2 * precision * recall / (precision + recall)
    return 100 * total / len(docs)


def full_text(doc):
    return ((doc.get("title") or "") + "\n\n" + doc["text"]).strip()


def run_lede(lede, docs, extra):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for d in docs:
            f.write(json.dumps({"id": d["id"], "title": d.get("title") or "", "body": d["text"]}) + "\n")
        path = f.name
    cmd = [lede, "enrich", path, "--no-summary", "--no-topics", "--quiet", "--keywords", str(K)] + extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    os.unlink(path)
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    out = {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        out[r["id"]] = [k["text"] for k in r["lede"].get("keywords", [])]
    return [out.get(d["id"], []) for d in docs]


def run_yake(docs):
    import yake

    return [
        [k for k, _ in yake.KeywordExtractor(lan=d["lang"], n=3, top=K).extract_keywords(full_text(d))]
        for d in docs
    ]


def run_keybert(docs, model_dir, ngrams=(1, 3), mmr=True):
    import stopwordsiso
    from keybert import KeyBERT
    from sentence_transformers import SentenceTransformer

    kb = KeyBERT(model=SentenceTransformer(model_dir, device="cpu"))
    out = []
    for d in docs:
        stop = sorted(stopwordsiso.stopwords(d["lang"]))
        kws = kb.extract_keywords(
            full_text(d), keyphrase_ngram_range=ngrams, stop_words=stop, use_mmr=mmr, diversity=0.5, top_n=K
        )
        out.append([k for k, _ in kws])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval-dir", default=os.path.join(ROOT, "..", "shared", "eval"))
    ap.add_argument("--lede", default=os.path.join(ROOT, "target", "release", "lede"))
    ap.add_argument("--models", default=os.path.join(ROOT, "models", "installed"))
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--limit", type=int, default=0, help="first N documents of each set (0: all)")
    ap.add_argument("--only", default="yake,kb3,kb1,lede", help="columns to compute (others print nan)")
    args, extra = ap.parse_known_args()
    only = set(args.only.split(","))
    minilm = os.path.join(args.models, "all-MiniLM-L6-v2")
    columns = {
        "yake": run_yake,
        "kb3": lambda docs: run_keybert(docs, minilm),
        "kb1": lambda docs: run_keybert(docs, minilm, ngrams=(1, 1), mmr=False),
        "lede": lambda docs: run_lede(args.lede, docs, extra),
    }
    print(f"| set | docs | YAKE | KeyBERT 1-3 words, MMR 0.5 | KeyBERT 1 word | lede {' '.join(extra)} |")
    print("|---|---|---|---|---|---|")
    for name in args.sets.split(","):
        path = os.path.join(args.eval_dir, SETS[name] + ".jsonl")
        docs = [json.loads(l) for l in open(path, encoding="utf-8")]
        if args.limit:
            docs = docs[: args.limit]
        f1 = {c: f1_at_k(run(docs), docs) if c in only else float("nan") for c, run in columns.items()}
        cells = " | ".join(f"{f1[c]:.2f}" for c in columns)
        print(f"| {SETS[name]} | {len(docs)} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
