#!/usr/bin/env python3
"""Fits the calibration of zero-shot topic scores (topics::head::ZERO_SHOT_PLATT): Platt scaling on the
label's evidence and its margin, p = sigmoid(a * z + m * (z - max of the other labels' z) + c) with
z = ln(share + 0.001), of each label's vote share against "the label is the article's class", over
every label of every article of the topic sets' dev halves, each set with its own class names
(benches/eval_topics.py's descriptions). Then checks it the honest way: fitted on all sets but one,
measured on the one left out (expected calibration error of the first topic, 10 bins; and how often
topics given at >= 0.8 are right), beside the same check of the share alone (m = 0, lede before
2026-12-05).

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
        # fp32 whatever the CPU, so that the constants come out the same on any machine.
        # With a = 1, c = 0 the score is (s + FLOOR) / (1 + s + FLOOR): its logit is ln(s + FLOOR).
        p = subprocess.run([lede, "enrich", path, "--no-summary", "--no-keywords", "--quiet", "--taxonomy", tax,
                            "--topics", str(len(classes)), "--topic-threshold", "0", "--topic-calibration", "1,0",
                            "--precision", "fp32", "--text-field", "text"], capture_output=True, text=True)
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


def margins(z):
    """Each label's lead over the best other label (negative for all but the first)."""
    return [x - max(z[:i] + z[i + 1:], default=x) for i, x in enumerate(z)]


def fit(rows, with_margin=True):
    """Logistic regression of "is gold" on (z, margin) over every (article, label): Newton steps.
    Returns (a, c, m)."""
    w = [1.0, 0.0, 0.0]  # a, c, m
    k = 3 if with_margin else 2
    # One (features, is gold) row per (article, label), built once for every Newton step.
    samples = [([x, 1.0, d][:k], 1.0 if i == g else 0.0)
               for z, g in rows for i, (x, d) in enumerate(zip(z, margins(z)))]
    for _ in range(50):
        grad = [0.0] * k
        hess = [[0.0] * k for _ in range(k)]
        for f, y in samples:
            p = 1 / (1 + math.exp(-sum(wi * fi for wi, fi in zip(w, f))))
            for r in range(k):
                grad[r] += (p - y) * f[r]
                for q in range(k):
                    hess[r][q] += p * (1 - p) * f[r] * f[q]
        step = solve(hess, grad)
        if step is None:
            break
        w[:k] = [wi - si for wi, si in zip(w, step)]
    return tuple(w)


def solve(a, b):
    """a x = b by Gaussian elimination with partial pivoting; None when singular."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[piv][col]) < 1e-12:
            return None
        m[col], m[piv] = m[piv], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col])]
    return [m[i][n] / m[i][i] for i in range(n)]


def check(rows, a, c, m):
    bins = [[0.0, 0.0, 0] for _ in range(10)]
    at80 = right80 = 0
    right = 0
    for z, g in rows:
        p = [1 / (1 + math.exp(-(a * x + m * d + c))) for x, d in zip(z, margins(z))]
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
    print("Each cell: first topic right % / ECE / right % among topics scored >= 0.8 (n).\n")
    print("| held-out set | share alone (fitted on the others: a, c) | **share and margin** (a, c, m) |")
    print("|---|---|---|")
    for name in data:
        train = [r for n, rows in data.items() if n != name for r in rows]
        cells = []
        for with_margin in (False, True):
            a, c, m = fit(train, with_margin)
            acc, ece, p80, n80 = check(data[name], a, c, m)
            params = f"{a:.3f}, {c:.3f}" + (f", {m:.3f}" if with_margin else "")
            cells.append(f"{100 * acc:.1f} / {ece:.3f} / {100 * p80:.1f} ({n80}) ({params})")
        print(f"| {name} | {cells[0]} | **{cells[1]}** |")
    a, c, m = fit([r for rows in data.values() for r in rows])
    print(f"\nAll sets: ZERO_SHOT_PLATT = Platt {{ a: {a:.3f}, c: {c:.3f}, margin: {m:.3f} }}")

if __name__ == "__main__":
    main()
