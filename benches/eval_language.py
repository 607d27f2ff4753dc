#!/usr/bin/env python3
"""Language identification accuracy on lingua's test sets: `und` and wrong codes both count as misses.

    python3 benches/eval_language.py [--eval-dir ../shared/eval] [--lede target/release/lede]
"""
import argparse
import json
import os
import subprocess

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
ap = argparse.ArgumentParser()
ap.add_argument("--eval-dir", default=os.path.join(ROOT, "..", "shared", "eval"))
ap.add_argument("--lede", default=os.path.join(ROOT, "target", "release", "lede"))
args = ap.parse_args()
print("| set | n | correct | accuracy | und |\n|---|---|---|---|---|")
for name in ("langid_lingua_sentences", "langid_lingua_wordpairs"):
    path = os.path.join(args.eval_dir, name + ".jsonl")
    p = subprocess.run([args.lede, "enrich", "--quiet", "--no-summary", "--no-topics", "--no-keywords", path],
                       capture_output=True, text=True, check=True)
    out = [json.loads(l) for l in p.stdout.splitlines()]
    ok = sum(o["lede"]["language"]["code"] == o["lang"] for o in out)
    und = sum(o["lede"]["language"]["code"] == "und" for o in out)
    print(f"| {name} | {len(out)} | {ok} | {100 * ok / len(out):.2f}% | {und} |")
