#!/usr/bin/env python3
"""Topics with a site's own vocabulary, however the site words it: zero-shot accuracy of the first topic
and the calibration of its score, for three wordings of the same classes side by side: bare names as a
site's tag list has them ("Sport", "Biznes"), one short phrase per class, and the facet lists of
benches/eval_topics.py. The bare names and phrases were written for this script without looking at
scores; none of them is tuned.

Bare names and short phrases are scored twice: as they are (the default) and anchored to the IPTC subject
they name (`--label-anchors`, src/stages/topics/anchor.rs); facet lists are descriptions, which are never
anchored.

With --learn, a second table: `lede learn` on the first 10 articles of each class (file order, as in
benches/eval_topics.py), scored on the rest, beside zero-shot on the same rest, for each wording. A learnt
head works in article space, so the wording should matter less once a site has tagged a few articles.

    python3 benches/eval_topic_wordings.py [--eval-dir ../shared/eval] [--lede target/release/lede] [--learn]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from eval_topics import CLASSES, ROOT, first_per_class, fmt, run, topic_stats  # noqa: E402

# Bare names: the class as a site's tag list would have it.
BARE = {
    "bbc_news_topics": {"business": "Business", "entertainment": "Entertainment", "politics": "Politics",
                        "sport": "Sport", "tech": "Technology"},
    "agnews_test_sample": {"World": "World", "Sports": "Sports", "Business": "Business", "Sci/Tech": "Sci/Tech"},
    "gnad10k_de_test_sample": {"Wirtschaft": "Wirtschaft", "International": "International",
                               "Panorama": "Panorama", "Inland": "Inland", "Wissenschaft": "Wissenschaft",
                               "Sport": "Sport", "Kultur": "Kultur", "Web": "Web", "Etat": "Etat"},
    "polsatnews_pl_topics": {"Świat": "Świat", "Technologie": "Technologie", "Sport": "Sport",
                             "Biznes": "Biznes", "Polska": "Polska", "Moto": "Moto"},
}

# One short phrase per class.
PHRASE = {
    "bbc_news_topics": {"business": "business and the economy", "entertainment": "film, music and celebrities",
                        "politics": "UK politics and government", "sport": "sport and athletes",
                        "tech": "technology and gadgets"},
    "agnews_test_sample": {"World": "news from around the world", "Sports": "sports results and athletes",
                           "Business": "companies and markets", "Sci/Tech": "science and technology news"},
    "gnad10k_de_test_sample": {"Wirtschaft": "Wirtschaft und Unternehmen", "International": "Nachrichten aus dem Ausland",
                               "Panorama": "Vermischtes und Chronik", "Inland": "österreichische Innenpolitik",
                               "Wissenschaft": "Forschung und Wissenschaft", "Sport": "Sport und Sportler",
                               "Kultur": "Kunst und Kultur", "Web": "Internet und digitale Welt",
                               "Etat": "Medien und Fernsehen"},
    "polsatnews_pl_topics": {"Świat": "wiadomości ze świata", "Technologie": "nowe technologie i nauka",
                             "Sport": "sport i sportowcy", "Biznes": "gospodarka i finanse",
                             "Polska": "wiadomości z kraju", "Moto": "samochody i motoryzacja"},
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=os.path.join(ROOT, "..", "shared", "eval"))
    ap.add_argument("--lede", default=os.path.join(ROOT, "target", "release", "lede"))
    ap.add_argument("--learn", action="store_true", help="also lede learn on 10 articles a class")
    ap.add_argument("--sets", default=",".join(CLASSES))
    args, extra = ap.parse_known_args()
    if "--label-anchors" in extra:
        ap.error("--label-anchors: the script already scores bare names and phrases with and without it")
    print("Each cell: first topic right % / ECE of its score / right % among topics scored >= 0.8 (how many) "
          "/ % of articles with a topic >= 0.5.\n")
    print("| set | n | bare names | bare names, --label-anchors | one short phrase "
          "| one short phrase, --label-anchors | facet lists (eval_topics.py) |")
    print("|---|---|---|---|---|---|---|")
    learnt_rows = []
    for name in args.sets.split(","):
        path = os.path.join(args.eval_dir, name + ".jsonl")
        records = [json.loads(l) for l in open(path, encoding="utf-8")]
        gold = {r["id"]: r["gold_category"] for r in records}
        same = lambda o, t: t["id"] == gold[o["id"]]  # noqa: E731
        train, test = first_per_class(records)
        rest = {r["id"] for r in test}
        cells, learnt = [], []
        for wording in (BARE[name], PHRASE[name], None):
            with tempfile.TemporaryDirectory() as tmp:
                tax = os.path.join(tmp, name + ".jsonl")
                with open(tax, "w", encoding="utf-8") as f:
                    for k, v in CLASSES[name].items():
                        if wording is None:
                            row = {"id": k, "label": k, "description": v}
                        else:
                            row = {"id": k, "label": wording[k]}
                        f.write(json.dumps(row, ensure_ascii=False) + "\n")
                flags = ["--no-summary", "--no-keywords", "--quiet", "--taxonomy", tax, "--topics", "3",
                         "--topic-threshold", "0", "--text-field", "text"] + extra
                out = run([args.lede, "enrich", path] + flags)
                cells.append(fmt(topic_stats(out, same)))
                if wording is not None:
                    anchored = run([args.lede, "enrich", path, "--label-anchors"] + flags)
                    cells.append(fmt(topic_stats(anchored, same)))
                if args.learn:
                    tr, te, model = (os.path.join(tmp, f) for f in ("train.jsonl", "test.jsonl", "model"))
                    for fn, rs in ((tr, train), (te, test)):
                        with open(fn, "w", encoding="utf-8") as f:
                            for r in rs:
                                f.write(json.dumps(dict(r, tags=[r["gold_category"]]), ensure_ascii=False) + "\n")
                    subprocess.run([args.lede, "learn", tr, "--taxonomy", tax, "--text-field", "text", "-q", "-o",
                                    model] + extra, check=True)
                    few = run([args.lede, "enrich", te, "--no-summary", "--no-keywords", "--quiet", "--taxonomy", tax,
                               "--topics", "3", "--topic-threshold", "0", "--text-field", "text", "--topic-model",
                               model] + extra)
                    zero_rest = topic_stats([o for o in out if o["id"] in rest], same)
                    learnt.append(f"{zero_rest['acc']:.1f} -> {fmt(topic_stats(few, same))}")
        print(f"| {name} | {len(records)} | " + " | ".join(cells) + " |", flush=True)
        learnt_rows.append(f"| {name} | {len(test)} | " + " | ".join(learnt) + " |")
        if args.learn:
            print(f"(learnt) {learnt_rows[-1]}", file=sys.stderr, flush=True)
    if args.learn:
        print("\n`lede learn` on 10 articles a class, scored on the rest: zero-shot first topic right % on the same "
              "rest -> learnt (first topic right % / ECE / right % among topics >= 0.8 (n) / % with a topic >= 0.5).\n")
        print("| set | n (rest) | bare names | one short phrase | facet lists |")
        print("|---|---|---|---|---|")
        print("\n".join(learnt_rows))


if __name__ == "__main__":
    main()
