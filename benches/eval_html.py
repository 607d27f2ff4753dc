#!/usr/bin/env python3
"""Main-text extraction from whole web pages, with the Article Extraction Benchmark's metric: tokens
(regex \\w+), 4-gram shingles, precision and recall per page, F1 of their means over pages (AEB's
evaluate.py). lede is measured through `lede extract` (each page written to a file as its raw bytes,
read as lede reads a site mirror); beside it in the same run, where installed, Python trafilatura and
readability-lxml on the same bytes.

    python3 benches/eval_html.py [--eval-dir ../shared/eval] [--lede target/release/lede]
                                 [--only lede,trafilatura,readability]

Needs for the baselines: pip install trafilatura readability-lxml (lede alone needs nothing).
A page lede passes over as an index or listing page counts as extracting nothing.
"""
import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
TOKEN = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)


def shingles(text, n=4):
    tokens = TOKEN.findall(text or "")
    return [tuple(tokens[i : i + n]) for i in range(0, max(1, len(tokens) - n + 1)) if tokens[i : i + n]]


def match(expected, predicted):
    a, b = Counter(shingles(expected)), Counter(shingles(predicted))
    tp = fp = fn = 0.0
    for k in set(a) | set(b):
        tp += min(a[k], b[k])
        fp += max(0, b[k] - a[k])
        fn += max(0, a[k] - b[k])
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total > 0 else (tp, fp, fn)


def precision(tp, fp, fn):
    return 1.0 if fp == fn == 0 else 0.0 if tp == fp == 0 else tp / (tp + fp)


def recall(tp, fp, fn):
    return 1.0 if fp == fn == 0 else 0.0 if tp == fn == 0 else tp / (tp + fn)


def aggregate(matches):
    p = [precision(*m) for m in matches if m[0] + m[1] > 0]
    r = [recall(*m) for m in matches if m[0] + m[2] > 0]
    p = sum(p) / len(p) if p else 0.0
    r = sum(r) / len(r) if r else 0.0
    return (2 * p * r / (p + r) if p + r else 0.0), p, r


def lede_texts(lede, pages, tmp):
    texts = {}
    for i, page in enumerate(pages):
        path = os.path.join(tmp, f"page{i:04d}.html")
        with open(path, "wb") as f:
            f.write(base64.b64decode(page["html_base64"]))
        out = subprocess.run([lede, "extract", path], capture_output=True, text=True)
        line = out.stdout.strip().splitlines()
        texts[page["id"]] = json.loads(line[0])["text"] if line else ""
    return texts


def trafilatura_texts(pages):
    import trafilatura

    out = {}
    for page in pages:
        html = base64.b64decode(page["html_base64"]).decode("utf-8", "replace")
        try:
            out[page["id"]] = trafilatura.extract(html, url=page.get("url")) or ""
        except Exception:
            out[page["id"]] = ""
    return out


def readability_texts(pages):
    import lxml.html
    from readability import Document

    out = {}
    for page in pages:
        html = base64.b64decode(page["html_base64"]).decode("utf-8", "replace")
        try:
            summary = Document(html).summary()
            out[page["id"]] = lxml.html.fromstring(summary).text_content() if summary.strip() else ""
        except Exception:
            out[page["id"]] = ""
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=os.path.join(ROOT, "..", "shared", "eval"))
    ap.add_argument("--lede", default=os.path.join(ROOT, "target", "release", "lede"))
    ap.add_argument("--only", default="lede,trafilatura,readability")
    args = ap.parse_args()
    with open(os.path.join(args.eval_dir, "html_pages.jsonl")) as f:
        pages = [json.loads(line) for line in f]
    systems = args.only.split(",")
    rows = []
    for name in systems:
        try:
            if name == "lede":
                with tempfile.TemporaryDirectory() as tmp:
                    texts = lede_texts(args.lede, pages, tmp)
            elif name == "trafilatura":
                texts = trafilatura_texts(pages)
            elif name == "readability":
                texts = readability_texts(pages)
            else:
                sys.exit(f"unknown system {name}")
        except ImportError as e:
            print(f"{name}: not installed ({e}); skipped", file=sys.stderr)
            continue
        matches = [match(p["expected_text"], texts.get(p["id"], "")) for p in pages]
        empty = sum(1 for p in pages if not texts.get(p["id"], "").strip())
        f1, p, r = aggregate(matches)
        halves = (aggregate(matches[0::2])[0], aggregate(matches[1::2])[0])
        rows.append((name, f1, p, r, halves, empty))
    print(f"| system | F1 | precision | recall | F1 odd / even pages | empty | ({len(pages)} pages)")
    print("|---|---|---|---|---|---|")
    for name, f1, p, r, (odd, even), empty in rows:
        print(f"| {name} | {f1:.4f} | {p:.4f} | {r:.4f} | {odd:.4f} / {even:.4f} | {empty} |")


if __name__ == "__main__":
    main()
