#!/usr/bin/env python3
"""Peak memory of `lede enrich TABLE.parquet -o OUT.parquet` at growing table sizes: flat memory means
the table streams through by row group (read, enrich, written with every original column) rather
than being held whole. Tables are written by pyarrow (scripts/setup --with-pyarrow) with 8,192-row
row groups and 600-1,200 characters of text a row; lede runs language detection only, so that a
table of 10^5 rows takes minutes, not days (the models' memory does not grow with the table either:
benches/SCALING.md).

    .deps/pyarrow-venv/bin/python benches/parquet_memory.py [--rows 20000,100000] [--lede target/release/lede]

Prints, per size: rows, file MB, seconds, rows/s, peak RSS (MiB, from /usr/bin/time -v).
"""
import argparse
import os
import random
import re
import subprocess
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
WORDS = ("the city council tram line opened monday university budget million euros years build "
         "station passengers minutes evening summer transport authority said old town shop owners "
         "hoped trams bring people back months come plan street water pipes moved").split()


def make_table(path, rows):
    rng = random.Random(rows)
    group = 8192
    writer = None
    for start in range(0, rows, group):
        n = min(group, rows - start)
        bodies = []
        for _ in range(n):
            words = [rng.choice(WORDS) for _ in range(rng.randint(100, 200))]
            bodies.append(" ".join(words).capitalize() + ".")
        table = pa.table({
            "id": [f"a{start + i}" for i in range(n)],
            "title": [f"Article {start + i}" for i in range(n)],
            "body": bodies,
            "views": pa.array([rng.randint(0, 10**6) for _ in range(n)], type=pa.int64()),
        })
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="snappy")
        writer.write_table(table, row_group_size=group)
    writer.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="20000,100000")
    ap.add_argument("--lede", default=os.path.join(ROOT, "target", "release", "lede"))
    args = ap.parse_args()
    print("| rows | file MB | seconds | rows/s | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for rows in map(int, args.rows.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            table = os.path.join(tmp, "in.parquet")
            make_table(table, rows)
            size = os.path.getsize(table) / 1e6
            out = subprocess.run(
                ["/usr/bin/time", "-v", args.lede, "enrich", table, "-o", os.path.join(tmp, "out.parquet"),
                 "--no-summary", "--no-keywords", "--no-topics", "-q"],
                capture_output=True, text=True)
            rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1)) / 1024
            wall = re.search(r"Elapsed \(wall clock\) time .*: (?:(\d+):)?(\d+):([\d.]+)", out.stderr)
            h, m, s = wall.groups()
            secs = int(h or 0) * 3600 + int(m) * 60 + float(s)
            check = pq.ParquetFile(os.path.join(tmp, "out.parquet")).metadata.num_rows
            assert check == rows, (check, rows)
            print(f"| {rows} | {size:.0f} | {secs:.1f} | {rows / secs:.0f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
