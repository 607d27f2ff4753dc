#!/usr/bin/env python3
"""Scaling by shards on one machine: the same documents through 1, 2 and 4 `lede enrich --shard K/N`
processes started together (each with --threads cores/N, at least 1), merged with `lede merge` and
checked byte-identical to the 1-process output. Reports wall time from start to the last shard's
end (model loads included, as a job would pay them), articles/s, peak RSS per process and in all,
and from the best articles/s what 50,000 and 5,000,000 articles cost in machine-hours here.

    python3 benches/shards.py [--eval-dir ../shared/eval] [--limit 60] [--shards 1 2 4]

Writes the table to stdout (Markdown); benches/SCALING.md keeps the last run with machine and date.
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
SETS = {"en": "cnndm_test_frank.jsonl", "pl": "polsatnews_pl_topics.jsonl"}


def run_shards(lede, docs, n, cores, out_dir):
    threads = max(1, cores // n)
    procs = []
    start = time.monotonic()
    for k in range(n):
        out = os.path.join(out_dir, f"{n}-{k}.jsonl")
        timings = os.path.join(out_dir, f"{n}-{k}.timings.json")
        rss_file = os.path.join(out_dir, f"{n}-{k}.rss")
        cmd = ["/usr/bin/time", "-o", rss_file, "-f", "%M", lede, "enrich", docs, "--shard", f"{k}/{n}",
               "--threads", str(threads), "--force", "--quiet", "-o", out, "--timings", timings]
        procs.append(subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            sys.exit(f"shard failed ({p.returncode}): {err[-2000:]}")
    wall = time.monotonic() - start
    rss = [int(open(os.path.join(out_dir, f"{n}-{k}.rss")).read().split()[-1]) / 1024 for k in range(n)]
    loads = [json.load(open(os.path.join(out_dir, f"{n}-{k}.timings.json")))["load_seconds"] for k in range(n)]
    shards = [os.path.join(out_dir, f"{n}-{k}.jsonl") for k in range(n)]
    merged = os.path.join(out_dir, f"{n}.merged.jsonl")
    subprocess.run([lede, "merge", "--input", docs, "-o", merged] + shards, check=True,
                   stderr=subprocess.DEVNULL)
    return wall, threads, rss, max(loads), merged


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=os.path.join(ROOT, "..", "shared", "eval"))
    ap.add_argument("--limit", type=int, default=60)
    ap.add_argument("--shards", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--lede", default=os.path.join(ROOT, "target", "release", "lede"))
    args = ap.parse_args()
    cores = os.cpu_count()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"Machine: {cpu}, {cores} cores, {platform.system()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"Command: python3 benches/shards.py --limit {args.limit} --shards {' '.join(map(str, args.shards))}\n")
    print("| set | shards | threads each | wall s (loads incl.) | articles/s | speed-up | peak RSS MiB each / all | merged = 1 process |")
    print("|---|---|---|---|---|---|---|---|")
    best = {}
    with tempfile.TemporaryDirectory() as tmp:
        for lang, name in SETS.items():
            docs = os.path.join(tmp, f"{lang}.jsonl")
            with open(os.path.join(args.eval_dir, name)) as src, open(docs, "w") as dst:
                for i, line in enumerate(src):
                    if i == args.limit:
                        break
                    dst.write(line)
            base_wall, reference = None, None
            for n in args.shards:
                out_dir = os.path.join(tmp, lang)
                os.makedirs(out_dir, exist_ok=True)
                wall, threads, rss, load, merged = run_shards(args.lede, docs, n, cores, out_dir)
                same = "reference"
                if reference is None:
                    reference, base_wall = open(merged, "rb").read(), wall
                else:
                    same = "yes" if open(merged, "rb").read() == reference else "NO"
                rate = args.limit / wall
                best[lang] = max(best.get(lang, (0, 0)), (rate, n))
                print(f"| {lang} | {n} | {threads} | {wall:.1f} | {rate:.2f} | {base_wall / wall:.2f}x | "
                      f"{max(rss):.0f} / {sum(rss):.0f} | {same} |", flush=True)
    print("\nCost on this machine at the best measured rate (CPU only, whole default pipeline):\n")
    print("| set | best | 50,000 articles | 5,000,000 articles |")
    print("|---|---|---|---|")
    for lang, (rate, n) in best.items():
        h = lambda count: count / rate / 3600
        print(f"| {lang} | {rate:.2f} articles/s ({n} shards) | {h(50_000):.1f} machine-h ({2 * h(50_000):.0f} core-h) | "
              f"{h(5_000_000):.0f} machine-h ({2 * h(5_000_000):.0f} core-h) |")


if __name__ == "__main__":
    main()
