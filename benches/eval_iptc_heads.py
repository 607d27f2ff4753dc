#!/usr/bin/env python3
"""IPTC top level of several topic heads side by side, on the topic sets' articles whose class has one
clear IPTC top-level subject (the same articles and scoring as the last columns of eval_topics.py).

    python3 benches/eval_iptc_heads.py [--precision fp32] zero-shot shipped DIR [DIR ...]

`zero-shot` is `enrich --zero-shot-topics`, `shipped` the head built into lede, DIR a head folder written by
`lede learn` for the IPTC vocabulary (for example by `scripts/train-iptc-head -o DIR`). Each cell: first
topic's top level right % / ECE of its score / right % among topics scored >= 0.8 (how many) / % of
articles with a topic >= 0.5.
"""
import argparse
import json
import os
import tempfile

import eval_topics as et

SETS = ["bbc_news_topics", "agnews_test_sample", "gnad10k_de_test_sample", "polsatnews_pl_topics"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("heads", nargs="+", help="zero-shot, shipped, or a head folder")
    ap.add_argument("--eval-dir", default=os.path.join(et.ROOT, "..", "shared", "eval"))
    ap.add_argument("--lede", default=os.path.join(et.ROOT, "target", "release", "lede"))
    ap.add_argument("--precision", default="auto")
    args = ap.parse_args()
    print("| set | n (IPTC-mapped) | " + " | ".join(args.heads) + " |")
    print("|---|---|" + "---|" * len(args.heads))
    means = [[] for _ in args.heads]
    for name in SETS:
        records = [json.loads(line) for line in open(os.path.join(args.eval_dir, name + ".jsonl"),
                                                     encoding="utf-8")]
        mapped, top_right = et.iptc_mapped(name, records)
        flags = ["--no-summary", "--no-keywords", "--quiet", "--topics", "3", "--topic-threshold", "0",
                 "--text-field", "text", "--precision", args.precision]
        cells = []
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "mapped.jsonl")
            et.write_jsonl(path, mapped)
            for i, head in enumerate(args.heads):
                extra = {"shipped": [], "zero-shot": ["--zero-shot-topics"]}.get(head, ["--topic-model", head])
                stats = et.topic_stats(et.run([args.lede, "enrich", path] + flags + extra), top_right)
                means[i].append(stats["acc"])
                cells.append(et.fmt(stats))
        print(f"| {name} | {len(mapped)} | " + " | ".join(cells) + " |", flush=True)
    print("| mean | | " + " | ".join(f"{sum(m) / len(m):.1f}" for m in means) + " |")


if __name__ == "__main__":
    main()
