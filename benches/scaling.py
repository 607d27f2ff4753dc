#!/usr/bin/env python3
"""Scaling with input size: the whole default pipeline (language, teaser, keywords, IPTC topics) on
100, 1,000 and 10,000 articles in one process, with peak RSS from /usr/bin/time. The articles are
`agnews_test_sample.jsonl` (short English news: title + one or two sentences) repeated with new ids
until there are enough, so 10,000 fit in minutes here; repeats never fall into the same model batch
(records are read in file order, 16 at a time, and the set has 235 distinct articles), so each is
computed in full. A flat peak RSS and a steady articles/s show that lede streams: nothing grows with
the number of articles but the output file.

    python3 benches/scaling.py [--eval-dir ../shared/eval] [--sizes 100 1000 10000]

Writes a Markdown table to stdout; benches/SCALING.md keeps the last run with machine and date.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=os.path.join(ROOT, "..", "shared", "eval"))
    ap.add_argument("--set", default="agnews_test_sample.jsonl")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--lede", default=os.path.join(ROOT, "target", "release", "lede"))
    args = ap.parse_args()
    base = [json.loads(l) for l in open(os.path.join(args.eval_dir, args.set), encoding="utf-8") if l.strip()]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"Machine: {cpu}, {os.cpu_count()} cores, {platform.system()}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; set {args.set} ({len(base)} distinct articles)")
    print()
    print("| articles | run s (loads excluded) | articles/s | model load s | peak RSS MiB | output MiB |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            docs = os.path.join(tmp, f"{n}.jsonl")
            with open(docs, "w", encoding="utf-8") as f:
                for i in range(n):
                    r = dict(base[i % len(base)])
                    r["id"] = f"{r['id']}-{i // len(base)}"
                    f.write(json.dumps(r, ensure_ascii=False) + "\n")
            out, timings, rss = (os.path.join(tmp, f"{n}.{x}") for x in ("out.jsonl", "timings.json", "rss"))
            cmd = ["/usr/bin/time", "-o", rss, "-f", "%M", args.lede, "enrich", docs, "--force", "--quiet",
                   "-o", out, "--timings", timings]
            p = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
            if p.returncode != 0:
                sys.exit(f"lede failed ({p.returncode}): {p.stderr[-2000:]}")
            t = json.load(open(timings))
            peak = int(open(rss).read().split()[-1]) / 1024
            print(f"| {n:,} | {t['run_seconds']:.1f} | {n / t['run_seconds']:.1f} | {t['load_seconds']:.1f} | "
                  f"{peak:.0f} | {os.path.getsize(out) / 2**20:.1f} |", flush=True)


if __name__ == "__main__":
    main()
