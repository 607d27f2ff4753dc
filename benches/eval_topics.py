#!/usr/bin/env python3
"""Topic quality: accuracy of the first topic and how well its score is calibrated, zero-shot (each set's
class names as the taxonomy, with a one-line description per class written for this evaluation), with a
head trained by `lede learn` on 10 examples per class taken from the same file (the first 10 of each class
in file order; scored on the rest, beside zero-shot on the same rest), and `lede learn`'s own 5-fold
cross-validated figures on every article of the set. Beside it, in the
same run, the plain baseline: sentence-transformers all-MiniLM-L6-v2 (or e5 for non-English), cosine between
the article (title + text) and "label: description". Last columns: the default vocabulary (IPTC Media
Topics, --topic-depth 2, 137 subjects) on the classes with one clear IPTC top-level subject (sport ->
medtop:15000000, business -> medtop:04000000, ...): right when the first topic's path starts there,
zero-shot as before and with the trained top-level head lede ships (scripts/train-iptc-head, trained on
other news sets only); the baseline takes the nearest of the same 137 "label: definition" texts.

    python3 benches/eval_topics.py [--eval-dir ../shared/eval] [--lede target/release/lede] [extra lede flags]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")

CLASSES = {
    "bbc_news_topics": {
        "business": "companies, markets, the economy, trade, jobs and money",
        "entertainment": "film, music, television, celebrities, awards and the arts",
        "politics": "government, elections, parties, parliament and public policy",
        "sport": "football, rugby, tennis, athletics and other sports, matches and players",
        "tech": "technology, computers, the internet, mobile phones, software and video games",
    },
    "agnews_test_sample": {
        "World": "international news: conflicts, diplomacy, governments and events around the world",
        "Sports": "sports: games, teams, players, leagues, championships and results",
        "Business": "business: companies, markets, stocks, earnings, the economy and oil prices",
        "Sci/Tech": "science and technology: computers, the internet, software, space and research",
    },
    "gnad10k_de_test_sample": {
        "Wirtschaft": "Wirtschaft: Unternehmen, Märkte, Banken, Konjunktur, Steuern und Arbeitsmarkt",
        "International": "Internationale Politik: Konflikte, Regierungen und Ereignisse im Ausland",
        "Panorama": "Panorama: Kriminalität, Unfälle, Gerichtsfälle, Wetter und Vermischtes",
        "Inland": "Innenpolitik in Österreich: Regierung, Parteien, Parlament, Wahlen und Behörden",
        "Wissenschaft": "Wissenschaft: Forschung, Medizin, Weltraum, Biologie und Umwelt",
        "Sport": "Sport: Fußball, Skifahren, Tennis, Formel 1, Spiele und Sportler",
        "Kultur": "Kultur: Film, Musik, Theater, Literatur, Kunst und Ausstellungen",
        "Web": "Web: Internet, Smartphones, Software, soziale Netzwerke und Computerspiele",
        "Etat": "Medien: Fernsehen, Zeitungen, Rundfunk, Journalismus und Werbung",
    },
    "polsatnews_pl_topics": {
        "Świat": "wydarzenia na świecie: polityka zagraniczna, konflikty, wojny i rządy innych państw",
        "Technologie": "technologie: internet, smartfony, sztuczna inteligencja, nauka i kosmos",
        "Sport": "sport: piłka nożna, siatkówka, skoki narciarskie, mecze i zawodnicy",
        "Biznes": "biznes: gospodarka, firmy, ceny, podatki, banki i rynek pracy",
        "Polska": "wydarzenia w Polsce: polityka krajowa, rząd, sejm, wypadki i sprawy społeczne",
        "Moto": "motoryzacja: samochody, kierowcy, drogi, przepisy drogowe i nowe modele aut",
    },
}


# The default vocabulary (IPTC Media Topics, --topic-depth 2) scored on the classes that have one clear
# IPTC top-level subject: the article's top topic counts as right when its path starts there.
IPTC_TOP = {
    "bbc_news_topics": {"business": "04", "entertainment": "01", "politics": "11", "sport": "15", "tech": "13"},
    "agnews_test_sample": {"Sports": "15", "Business": "04", "Sci/Tech": "13"},
    "gnad10k_de_test_sample": {"Wirtschaft": "04", "Sport": "15", "Kultur": "01", "Wissenschaft": "13",
                               "Web": "13", "Etat": "01"},
    "polsatnews_pl_topics": {"Sport": "15", "Biznes": "04", "Technologie": "13"},
}


def iptc_labels(depth=2):
    """(id, top-level id, "label: definition") of the shipped IPTC concepts down to `depth`, as lede
    embeds them."""
    rows = [json.loads(l) for l in open(os.path.join(ROOT, "models", "iptc", "iptc-mediatopics.jsonl"), encoding="utf-8")]
    parent = {r["id"]: r["parent"] for r in rows}
    out = []
    for r in rows:
        if r["retired"] or r["level"] > depth:
            continue
        top = r["id"]
        while parent[top]:
            top = parent[top]
        label, d = r["labels"].get("en-GB", ""), r.get("definitions", {}).get("en-GB", "")
        out.append((r["id"], top, f"{label}: {d}" if d else label))
    return out


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return [json.loads(l) for l in p.stdout.splitlines() if l.strip()]


class MeanPooled:
    """e5 through plain transformers (BertModel + mean pooling + L2), since sentence-transformers cannot
    load our converted folder's tokenizer.json; MiniLM through sentence-transformers."""

    def __init__(self, lang):
        if lang == "en":
            from sentence_transformers import SentenceTransformer
            self.st = SentenceTransformer(os.path.join(ROOT, "models", "installed", "all-MiniLM-L6-v2"), device="cpu")
            self.prefix = ""
        else:
            import torch
            from tokenizers import Tokenizer
            from transformers import BertModel
            folder = os.path.join(ROOT, "models", "installed", "multilingual-e5-small")
            self.st, self.torch = None, torch
            self.model = BertModel.from_pretrained(folder, add_pooling_layer=False).eval()
            self.tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
            self.tok.enable_truncation(512)
            self.prefix = "query: "

    def encode(self, texts):
        import numpy as np
        texts = [self.prefix + t for t in texts]
        if self.st is not None:
            return self.st.encode(texts, normalize_embeddings=True, batch_size=16)
        out = []
        with self.torch.no_grad():
            for t in texts:
                ids = self.torch.tensor([self.tok.encode(t).ids])
                v = self.model(input_ids=ids).last_hidden_state.mean(1)[0]
                out.append((v / v.norm()).numpy())
        return np.stack(out)


def baseline(records, classes, lang, iptc_top):
    """Accuracy on the set's own classes, and on the IPTC-mapped classes with the IPTC vocabulary."""
    m = MeanPooled(lang)
    labels = list(classes)
    lv = m.encode([f"{k}: {v}" for k, v in classes.items()])
    dv = m.encode([(r.get("title") or "") + "\n" + r["text"] for r in records])
    pred = (dv @ lv.T).argmax(1)
    acc = sum(labels[p] == r["gold_category"] for p, r in zip(pred, records)) / len(records)
    iptc = iptc_labels()
    iv = m.encode([t for _, _, t in iptc])
    pred = (dv @ iv.T).argmax(1)
    mapped = [(p, r) for p, r in zip(pred, records) if r["gold_category"] in iptc_top]
    iptc_acc = sum(iptc[p][1] == f"medtop:{iptc_top[r['gold_category']]}000000" for p, r in mapped) / len(mapped)
    return acc, iptc_acc


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def topic_stats(out, right):
    """First-topic accuracy, ECE of the first topic's score (10 bins), share of articles with a topic
    at >= 0.5, and how often topics scored >= 0.8 are right. `right(record, topic)` judges a topic."""
    n = len(out)
    bins = [[0.0, 0.0, 0] for _ in range(10)]
    first_right = covered = at80 = right80 = 0
    for o in out:
        ts = o["lede"].get("topics") or []
        if ts:
            ok = right(o, ts[0])
            first_right += ok
            b = min(int(ts[0]["score"] * 10), 9)
            bins[b][0] += ts[0]["score"]
            bins[b][1] += ok
            bins[b][2] += 1
        covered += any(t["score"] >= 0.5 for t in ts)
        for t in ts:
            if t["score"] >= 0.8:
                at80 += 1
                right80 += right(o, t)
    ece = sum(abs(s - r) for s, r, k in bins if k) / max(n, 1)
    return {"acc": 100 * first_right / max(n, 1), "ece": ece, "covered": 100 * covered / max(n, 1),
            "p80": 100 * right80 / at80 if at80 else float("nan"), "n80": at80}


def iptc_mapped(name, records):
    """The set's articles whose class has one clear IPTC top-level subject, and the judge of a topic:
    right when its path starts at that subject."""
    iptc_top = IPTC_TOP[name]
    mapped = [r for r in records if r["gold_category"] in iptc_top]
    want = {r["id"]: f"medtop:{iptc_top[r['gold_category']]}000000" for r in mapped}
    return mapped, lambda o, t: (t.get("path") or [None])[0] == want[o["id"]]


def first_per_class(records, k=10):
    """The first k articles of each class in file order (to learn from), and the rest (to score)."""
    seen, train, test = {}, [], []
    for r in records:
        c = r["gold_category"]
        seen[c] = seen.get(c, 0) + 1
        (train if seen[c] <= k else test).append(r)
    return train, test


def fmt(s):
    return f"{s['acc']:.1f} / {s['ece']:.3f} / {s['p80']:.1f} ({s['n80']}) / {s['covered']:.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=os.path.join(ROOT, "..", "shared", "eval"))
    ap.add_argument("--lede", default=os.path.join(ROOT, "target", "release", "lede"))
    ap.add_argument("--sets", default=",".join(CLASSES))
    ap.add_argument("--no-baseline", action="store_true")
    args, extra = ap.parse_known_args()
    if not args.no_baseline:
        # Fail before the long lede runs, not after them.
        import sentence_transformers  # noqa: F401
    print("Each lede cell: first topic right % / ECE of its score / right % among topics scored >= 0.8 (how many) "
          "/ % of articles with a topic >= 0.5.\n")
    print("| set | n | baseline (ST cosine) | lede zero-shot | n (rest) | zero-shot on the rest | lede learn, 10/class "
          "| all dev articles, 5-fold CV: zero-shot / learnt without grams / learnt | n (IPTC-mapped) | baseline IPTC top level "
          "| IPTC zero-shot (before) | IPTC trained head (default) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.sets.split(","):
        classes = CLASSES[name]
        path = os.path.join(args.eval_dir, name + ".jsonl")
        records = [json.loads(l) for l in open(path, encoding="utf-8")]
        gold = {r["id"]: r["gold_category"] for r in records}
        same = lambda o, t: t["id"] == gold[o["id"]]  # noqa: E731
        lang = records[0]["lang"]
        with tempfile.TemporaryDirectory() as tmp:
            tax = os.path.join(tmp, name + ".jsonl")
            with open(tax, "w", encoding="utf-8") as f:
                for k, v in classes.items():
                    f.write(json.dumps({"id": k, "label": k, "description": v}, ensure_ascii=False) + "\n")
            flags = ["--no-summary", "--no-keywords", "--quiet", "--taxonomy", tax, "--topics", "3",
                     "--topic-threshold", "0", "--text-field", "text"] + extra
            zero = topic_stats(run([args.lede, "enrich", path] + flags), same)
            train, test = first_per_class(records)
            tr, te, full = (os.path.join(tmp, f) for f in ("train.jsonl", "test.jsonl", "all.jsonl"))
            for fn, rs in ((tr, train), (te, test), (full, records)):
                write_jsonl(fn, (dict(r, tags=[r["gold_category"]]) for r in rs))
            zero_rest = topic_stats(run([args.lede, "enrich", te] + flags), same)
            model = os.path.join(tmp, "model10")
            subprocess.run([args.lede, "learn", tr, "--taxonomy", tax, "--text-field", "text", "-q", "-o", model],
                           check=True)
            few = topic_stats(run([args.lede, "enrich", te, "--topic-model", model] + flags), same)
            model_all = os.path.join(tmp, "model-all")
            subprocess.run([args.lede, "learn", full, "--taxonomy", tax, "--text-field", "text", "-q", "-o",
                            model_all], check=True)
            m = json.load(open(os.path.join(model_all, "metrics.json")))
            cv = next(iter(m["embedders"].values()))
            # The default vocabulary: IPTC down to level 2, first topic's top-level subject.
            iptc_top = IPTC_TOP[name]
            mapped, top_right = iptc_mapped(name, records)
            mp = os.path.join(tmp, "mapped.jsonl")
            write_jsonl(mp, mapped)
            iflags = ["--no-summary", "--no-keywords", "--quiet", "--topics", "3", "--topic-threshold", "0",
                      "--text-field", "text"] + extra
            iptc_zero = topic_stats(run([args.lede, "enrich", mp, "--zero-shot-topics"] + iflags), top_right)
            iptc_head = topic_stats(run([args.lede, "enrich", mp] + iflags), top_right)
        base, base_iptc = (float("nan"), float("nan")) if args.no_baseline else baseline(records, classes, lang, iptc_top)
        print(f"| {name} ({lang}) | {len(records)} | {100 * base:.1f} | {fmt(zero)} | {len(test)} | {fmt(zero_rest)} "
              f"| {fmt(few)} | {100 * cv['zero_shot']['accuracy']:.1f} / "
              f"{100 * cv.get('accuracy_without_grams', cv['learned']['accuracy']):.1f} / {100 * cv['learned']['accuracy']:.1f} "
              f"| {len(mapped)} | {100 * base_iptc:.1f} | {fmt(iptc_zero)} | {fmt(iptc_head)} |", flush=True)


if __name__ == "__main__":
    main()
