#!/usr/bin/env python3
"""Would the topic sets' dev halves calibrate the shipped IPTC head better than its own training folds?

The issue lets BBC, AG News, 10kGNAD and Polsat calibrate (never train) the default. This measures it
before building it: one `lede enrich` per set (default depth, every subject reported, threshold 0),
then a logistic recalibration of the reported top-level scores, p' = sigmoid(a logit(p) + b), fitted by
Newton's method on three sets ("is this top-level subject the article's mapped one") and measured on the
fourth, beside the shipped scaling and an in-sample fit on all four. It changes no ranking, so the first
topic's accuracy stays; cells as in eval_iptc_heads.py.

    python3 benches/recalibrate_iptc_head.py [--precision fp32]
"""
import argparse
import json
import math
import os
import tempfile

import eval_topics as et

SETS = ["bbc_news_topics", "agnews_test_sample", "gnad10k_de_test_sample", "polsatnews_pl_topics"]


def logit(p):
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def rows(out, right):
    """(logit of the score, right?) for every top-level subject reported."""
    return [(logit(t["score"]), 1.0 if right(o, t) else 0.0)
            for o in out for t in o["lede"].get("topics") or [] if len(t.get("path") or []) == 1]


def fit(data):
    """Logistic regression of right? on the logit, two parameters, Newton's method."""
    a, b = 1.0, 0.0
    for _ in range(50):
        ga = gb = haa = hab = hbb = 0.0
        for x, y in data:
            p = 1 / (1 + math.exp(-(a * x + b)))
            w = p * (1 - p)
            ga += (p - y) * x
            gb += p - y
            haa += w * x * x
            hab += w * x
            hbb += w
        det = haa * hbb - hab * hab
        da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if abs(da) + abs(db) < 1e-9:
            break
    return a, b


def rescaled(out, a, b):
    new = []
    for o in out:
        o = json.loads(json.dumps(o))
        for t in o["lede"].get("topics") or []:
            t["score"] = 1 / (1 + math.exp(-(a * logit(t["score"]) + b)))
        new.append(o)
    return new


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=os.path.join(et.ROOT, "..", "shared", "eval"))
    ap.add_argument("--lede", default=os.path.join(et.ROOT, "target", "release", "lede"))
    ap.add_argument("--precision", default="auto")
    args = ap.parse_args()
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in SETS:
            records = [json.loads(line) for line in open(os.path.join(args.eval_dir, name + ".jsonl"),
                                                         encoding="utf-8")]
            mapped, right = et.iptc_mapped(name, records)
            path = os.path.join(tmp, name + ".jsonl")
            et.write_jsonl(path, mapped)
            out = et.run([args.lede, "enrich", path, "--no-summary", "--no-keywords", "--quiet", "--topics", "17",
                          "--topic-threshold", "0", "--text-field", "text", "--precision", args.precision])
            runs[name] = (out, right)
    everything = fit([r for out, right in runs.values() for r in rows(out, right)])
    print("| held-out set | shipped scaling | refitted on the other three sets (a, b) | refitted on all four (in-sample) |")
    print("|---|---|---|---|")
    for name, (out, right) in runs.items():
        a, b = fit([r for n, (o, j) in runs.items() if n != name for r in rows(o, j)])
        cells = [et.fmt(et.topic_stats(out, right)),
                 f"{et.fmt(et.topic_stats(rescaled(out, a, b), right))} ({a:.2f}, {b:.2f})",
                 et.fmt(et.topic_stats(rescaled(out, *everything), right))]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    print(f"\nIn-sample fit on all four: a = {everything[0]:.3f}, b = {everything[1]:.3f}")


if __name__ == "__main__":
    main()
