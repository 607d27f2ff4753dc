#!/usr/bin/env python3
"""Fits the calibration of zero-shot topic scores (topics::head::ZERO_SHOT_PLATT): Platt scaling,
p = sigmoid(a * ln(share + 0.001) + c), of each label's vote share against "the label is the
article's class", over every label of every article of the topic sets' dev halves, each set with its
own class names (benches/eval_topics.py's descriptions). Then checks it the honest way: fitted on
all sets but one, measured on the one left out (expected calibration error of the first topic, 10
bins; and how often topics given at >= 0.8 are right).

    python3 benches/calibrate_topics.py [--eval-dir ../shared/eval] [--lede target/release/lede]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from eval_topics import CLASSES, ROOT  # noqa: E402

FLOOR = 1e-3


def shares(lede, eval_dir, name):
    """Per article: (ln(share + FLOOR) per label, index of the gold label)."""
    classes = list(CLASSES[name])
    path = os.path.join(eval_dir, name + ".jsonl")
    records = [json.loads(l) for l in open(path, encoding="utf-8")]
    with tempfile.TemporaryDirectory() as tmp:
        tax = os.path.join(tmp, name + ".jsonl")
        with open(tax, "w", encoding="utf-8") as f:
            for k, v in CLASSES[name].items():
                f.write(json.dumps({"id": k, "label": k, "description": v}, ensure_ascii=False) + "\n")
        # With a = 1, c = 0 the score is (s + FLOOR) / (1 + s + FLOOR): its logit is ln(s + FLOOR).
        p = subprocess.run([lede, "enrich", path, "--no-summary", "--no-keywords", "--quiet", "--taxonomy", tax,
                            "--topics", str(len(classes)), "--topic-threshold", "0", "--topic-calibration", "1,0",
                            "--text-field", "text"], capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(p.stderr)
    gold = {r["id"]: r["gold_category"] for r in records}
    out = []
    for line in p.stdout.splitlines():
        o = json.loads(line)
        z = [math.log(FLOOR)] * len(classes)
        for t in o["lede"].get("topics") or []:
            q = min(max(t["score"], 1e-6), 1 - 1e-6)
            z[classes.index(t["id"])] = math.log(q / (1 - q))
        out.append((z, classes.index(gold[o["id"]])))
    return out


def fit(rows):
    """Logistic regression of "is gold" on z over every (article, label): Newton steps."""
    a, c = 1.0, 0.0
    for _ in range(50):
        ga = gc = haa = hac = hcc = 0.0
        for z, g in rows:
            for i, x in enumerate(z):
                p = 1 / (1 + math.exp(-(a * x + c)))
                y = 1.0 if i == g else 0.0
                ga += (p - y) * x
                gc += p - y
                w = p * (1 - p)
                haa += w * x * x
                hac += w * x
                hcc += w
        det = haa * hcc - hac * hac
        if det <= 0:
            break
        a -= (hcc * ga - hac * gc) / det
        c -= (haa * gc - hac * ga) / det
    return a, c


def check(rows, a, c):
    bins = [[0.0, 0.0, 0] for _ in range(10)]
    at80 = right80 = 0
    right = 0
    for z, g in rows:
        p = [1 / (1 + math.exp(-(a * x + c))) for x in z]
        top = max(range(len(p)), key=lambda i: p[i])
        b = min(int(p[top] * 10), 9)
        bins[b][0] += p[top]
        bins[b][1] += top == g
        bins[b][2] += 1
        right += top == g
        for i, q in enumerate(p):
            if q >= 0.8:
                at80 += 1
                right80 += i == g
    ece = sum(abs(s - r) for s, r, n in bins if n) / len(rows)
    return right / len(rows), ece, (right80 / at80 if at80 else float("nan")), at80


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=os.path.join(ROOT, "..", "shared", "eval"))
    ap.add_argument("--lede", default=os.path.join(ROOT, "target", "release", "lede"))
    args = ap.parse_args()
    data = {name: shares(args.lede, args.eval_dir, name) for name in CLASSES}
    print("| held-out set | fitted on the others: a, c | first topic right | ECE | right among scores >= 0.8 (n) |")
    print("|---|---|---|---|---|")
    for name in data:
        train = [r for n, rows in data.items() if n != name for r in rows]
        a, c = fit(train)
        acc, ece, p80, n80 = check(data[name], a, c)
        print(f"| {name} | {a:.3f}, {c:.3f} | {100 * acc:.1f} | {ece:.3f} | {100 * p80:.1f} ({n80}) |")
    a, c = fit([r for rows in data.values() for r in rows])
    print(f"\nAll sets: ZERO_SHOT_PLATT = Platt {{ a: {a:.3f}, c: {c:.3f} }}")


if __name__ == "__main__":
    main()
