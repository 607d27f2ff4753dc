#!/usr/bin/env python3
"""Enrich a JSONL archive with lede on Apache Spark.

Each partition of the input is piped through one `lede enrich --filter` process (RDD.pipe): the
models load once per partition, records go in and come out as JSONL, and Spark spreads the
partitions over its executors. The output is a folder of part files; concatenated in name order
they hold the records in input order (`cat OUT/part-*`).

    python3 examples/spark/enrich.py archive.jsonl enriched/ --partitions 8 --lede target/release/lede
    python3 examples/spark/enrich.py archive.jsonl enriched/ -- --topic-depth 1 --no-keywords

Give every executor core its own lede: `--threads` is passed as cores / concurrent tasks, so two
tasks on a 2-core executor each use one core instead of both fighting for both. A task whose lede
exits non-zero fails and Spark retries it (spark.task.maxFailures); bad records never do that: they
come back as {"lede": {"error": ...}} lines (`--filter`), and lede exits 0.
"""
import argparse
import os
import shlex
import sys

from pyspark import SparkConf, SparkContext


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", help="JSONL file (or anything sc.textFile reads: a folder, hdfs://, s3a://)")
    ap.add_argument("output", help="output folder (must not exist)")
    ap.add_argument("--partitions", type=int, default=4, help="at least this many partitions")
    ap.add_argument("--lede", default="lede", help="path of the lede binary on the executors")
    ap.add_argument("--master", default="local[2]", help="Spark master (local[2]: 2 cores here)")
    ap.add_argument("--threads", type=int, default=1, help="cores each lede process uses")
    argv = sys.argv[1:]
    # Everything after `--` goes to `lede enrich` as it is.
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = ap.parse_args(argv[:len(argv) - len(extra) - (1 if "--" in argv else 0)])

    conf = SparkConf().setMaster(args.master).setAppName("lede-enrich")
    sc = SparkContext(conf=conf)
    sc.setLogLevel("WARN")
    try:
        command = [args.lede, "enrich", "--filter", "--quiet", "--threads", str(args.threads), *extra]
        lines = sc.textFile(args.input, minPartitions=args.partitions)
        # checkCode: a lede that fails (exit 2: bad flags or models; 75: I/O) fails the task.
        enriched = lines.pipe(shlex.join(command), env=dict(os.environ), checkCode=True)
        enriched.saveAsTextFile(args.output)
        print(f"lede on spark: {lines.getNumPartitions()} partitions -> {args.output}", file=sys.stderr)
    finally:
        sc.stop()


if __name__ == "__main__":
    main()
