#!/usr/bin/env python3
"""End-to-end throughput of lede beside the Python stack a user would otherwise pick, same models, same
machine, same documents, one command:

  - whole default pipeline: `lede enrich` (language, teaser, keywords, topics; multilingual-e5-small)
    vs a Python script doing the same steps with the same e5 weights: lingua-py language detection,
    sentence split, sentence-transformers embeddings, centroid teaser, KeyBERT keywords;
  - embeddings: lede's embed stage vs sentence-transformers `encode` on the same texts (titles and
    sentences as `lede segment` cuts them), all-MiniLM-L6-v2, tokens/s;
  - keywords: lede keywords only vs KeyBERT (1-3 words, MMR 0.5, Stopwords-ISO), all-MiniLM-L6-v2,
    articles/s (F1 of both: benches/QUALITY.md, benches/eval_keywords.py);
  - the physical limit: the embedder's achieved GFLOP/s (FLOPs per token from its config, attention
    over the measured padded length included) against this machine's fp32 matrix-multiply peak,
    measured with torch on the same cores and thread count.

Model load is timed separately (an empty input through the same command); articles/s exclude it.
Peak RSS per process from /usr/bin/time. Each Python baseline runs in its own process too.

    python3 benches/throughput.py [--eval-dir ../shared/eval] [--limit 100] [--lede target/release/lede]

Needs: pip install sentence-transformers keybert stopwordsiso lingua-language-detector
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SETS = {"en": "cnndm_test_frank.jsonl", "pl": "polsatnews_pl_topics.jsonl"}


def timed(cmd, **kw):
    """Runs cmd under /usr/bin/time: (wall seconds, peak RSS MiB, completed process)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        full = ["/usr/bin/time", "-o", t.name, "-f", "%e %M"] + cmd
        p = subprocess.run(full, capture_output=True, text=True, **kw)
        if p.returncode != 0:
            sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr[-3000:]}")
        wall, rss_kb = t.read().split()[-2:]
    return float(wall), int(rss_kb) / 1024, p


def lede_run(lede, docs_path, flags, out_dir, name):
    """One lede run: (load s, run s, peak RSS MiB, timings)."""
    timings = os.path.join(out_dir, name + ".timings.json")
    cmd = [lede, "enrich", docs_path, "-o", os.path.join(out_dir, name + ".jsonl"), "--force",
           "--quiet", "--timings", timings] + flags
    _, rss, _ = timed(cmd)
    t = json.load(open(timings))
    return t["load_seconds"], t["run_seconds"], rss, t


def python_worker(kind, docs_path, model_dir, texts_path):
    """Runs one Python baseline in this process and prints a JSON line: load and run seconds."""
    t0 = time.perf_counter()
    import torch
    from sentence_transformers import SentenceTransformer
    docs = [json.loads(l) for l in open(docs_path, encoding="utf-8")]
    model = SentenceTransformer(model_dir, device="cpu")
    if kind == "embed":
        texts = json.load(open(texts_path))
        tok = model.tokenizer
        tokens = sum(len(ids) for ids in tok(texts, truncation=True, max_length=model.max_seq_length)["input_ids"])
        model.encode(texts[:8])  # warm-up, as lede's load does
        load = time.perf_counter() - t0
        t1 = time.perf_counter()
        model.encode(texts, batch_size=32)
        run = time.perf_counter() - t1
        print(json.dumps({"load": load, "run": run, "tokens": tokens, "threads": torch.get_num_threads()}))
        return
    import stopwordsiso
    from keybert import KeyBERT
    kb = KeyBERT(model=model)
    if kind == "keywords":
        load = time.perf_counter() - t0
        t1 = time.perf_counter()
        for d in docs:
            text = f"{d.get('title') or ''}\n\n{d['text']}"
            stop = sorted(stopwordsiso.stopwords(d["lang"]))
            kb.extract_keywords(text, keyphrase_ngram_range=(1, 3), stop_words=stop, use_mmr=True,
                                diversity=0.5, top_n=10)
        print(json.dumps({"load": load, "run": time.perf_counter() - t1}))
        return
    # The whole pipeline: language, sentences, embeddings, centroid teaser, KeyBERT.
    from lingua import LanguageDetectorBuilder
    detector = LanguageDetectorBuilder.from_all_languages().build()
    load = time.perf_counter() - t0
    t1 = time.perf_counter()
    splitter = re.compile(r"(?<=[.!?])\s+(?=[A-ZĄĆĘŁŃÓŚŹŻ\"“])")
    for d in docs:
        title, body = d.get("title") or "", d["text"]
        detector.detect_language_of(f"{title}\n\n{body}")
        sentences = [s for s in splitter.split(body) if s.strip()]
        vecs = model.encode(["query: " + s for s in sentences] + ["query: " + title], batch_size=32,
                            normalize_embeddings=True)
        centroid = vecs[:-1].mean(axis=0)
        best = sorted(range(len(sentences)), key=lambda i: -float(vecs[i] @ centroid))[:2]
        _teaser = " ".join(sentences[i] for i in sorted(best))
        stop = sorted(stopwordsiso.stopwords(d["lang"]))
        kb.extract_keywords(f"{title}\n\n{body}", keyphrase_ngram_range=(1, 3), stop_words=stop,
                            use_mmr=True, diversity=0.5, top_n=10)
    print(json.dumps({"load": load, "run": time.perf_counter() - t1}))


def e5_for_transformers(e5, tmp):
    """The installed e5 folder as transformers loads it: its config.json says BERT, but the tokenizer is
    XLM-R's SentencePiece, so the tokenizer is declared as a plain fast tokenizer over tokenizer.json."""
    out = os.path.join(tmp, "e5-for-transformers")
    os.makedirs(out, exist_ok=True)
    for f in ("config.json", "model.safetensors", "tokenizer.json"):
        if not os.path.exists(os.path.join(out, f)):
            os.symlink(os.path.abspath(os.path.join(e5, f)), os.path.join(out, f))
    json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512, "bos_token": "<s>",
               "cls_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "pad_token": "<pad>",
               "unk_token": "<unk>", "mask_token": "<mask>"}, open(os.path.join(out, "tokenizer_config.json"), "w"))
    return out


def python_run(kind, docs_path, model_dir, texts_path=""):
    _, rss, p = timed([sys.executable, __file__, "--worker", kind, docs_path, model_dir, texts_path])
    r = json.loads(p.stdout.strip().splitlines()[-1])
    return r, rss


def matmul_peak(threads):
    """Best fp32 GFLOP/s of a square matmul with torch on `threads` threads."""
    import torch
    torch.set_num_threads(threads)
    best = 0.0
    for n in (1024, 2048, 3072):
        a, b = torch.randn(n, n), torch.randn(n, n)
        a @ b
        reps = 5
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        best = max(best, 2 * n**3 * reps / (time.perf_counter() - t) / 1e9)
    return best


def flops_per_token(config_path, seq_len):
    c = json.load(open(config_path))
    h, i, layers = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
    dense = 2 * layers * (4 * h * h + 2 * h * i)
    attention = layers * 4 * seq_len * h
    return dense + attention


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        python_worker(*sys.argv[2:6])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=os.path.join(ROOT, "..", "shared", "eval"))
    ap.add_argument("--lede", default=os.path.join(ROOT, "target", "release", "lede"))
    ap.add_argument("--models", default=os.path.join(ROOT, "models", "installed"))
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--sets", default="en,pl")
    args = ap.parse_args()
    e5 = os.path.join(args.models, "multilingual-e5-small")
    minilm = os.path.join(args.models, "all-MiniLM-L6-v2")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"machine: {cpu}, {os.cpu_count()} cores, {platform.system()}; date {time.strftime('%Y-%m-%d')}")
    print(f"command: python3 benches/throughput.py --limit {args.limit} --sets {args.sets}\n")
    rows, limit_rows, ratios = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets.split(","):
            docs = [json.loads(l) for l in open(os.path.join(args.eval_dir, SETS[name]), encoding="utf-8")]
            docs = docs[: args.limit]
            path = os.path.join(tmp, f"{name}.jsonl")
            with open(path, "w", encoding="utf-8") as f:
                for d in docs:
                    f.write(json.dumps({"id": d["id"], "title": d.get("title") or "", "text": d["text"],
                                        "lang": d["lang"]}, ensure_ascii=False) + "\n")
            n = len(docs)
            # Whole pipeline.
            load, run, rss, t = lede_run(args.lede, path, [], tmp, f"{name}-all")
            py, py_rss = python_run("pipeline", path, e5_for_transformers(e5, tmp))
            rows.append((name, "whole pipeline (e5-small)", n / run, n / py["run"], load, py["load"], rss, py_rss))
            e = next(iter(t["embedders"].values()))
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(t["stage_seconds"].items()))
            print(f"[{name}] lede stages over {n} articles: {stages}; embedded {e['tokens']} tokens "
                  f"({e['padded_tokens']} padded) in {e['seconds']:.1f}s = {e['tokens'] / e['seconds']:.0f} tokens/s")
            seq = e["padded_tokens"] / max(e["inputs"], 1)
            gflops = flops_per_token(os.path.join(e5, "config.json"), seq) * e["padded_tokens"] / e["seconds"] / 1e9
            limit_rows.append((name, "multilingual-e5-small", seq, gflops))
            # Embeddings only, MiniLM: the same texts through both.
            seg = subprocess.run([args.lede, "segment", path], capture_output=True, text=True, check=True)
            texts = []
            for line, d in zip(seg.stdout.splitlines(), docs):
                if d.get("title"):
                    texts.append(d["title"])
                texts.extend(json.loads(line)["sentences"])
            texts_path = os.path.join(tmp, f"{name}.texts.json")
            json.dump(texts, open(texts_path, "w"))
            load, run, rss, t = lede_run(args.lede, path, ["--embedder", "all-MiniLM-L6-v2", "--no-keywords",
                                                           "--no-topics"], tmp, f"{name}-embed")
            e = next(iter(t["embedders"].values()))
            py, py_rss = python_run("embed", path, minilm, texts_path)
            rows.append((name, "embeddings, tokens/s (MiniLM)", e["tokens"] / e["seconds"], py["tokens"] / py["run"],
                         load, py["load"], rss, py_rss))
            seq = e["padded_tokens"] / max(e["inputs"], 1)
            gflops = flops_per_token(os.path.join(minilm, "config.json"), seq) * e["padded_tokens"] / e["seconds"] / 1e9
            limit_rows.append((name, "all-MiniLM-L6-v2", seq, gflops))
            # Keywords only, MiniLM.
            load, run, rss, t = lede_run(args.lede, path, ["--embedder", "all-MiniLM-L6-v2", "--no-summary",
                                                           "--no-topics"], tmp, f"{name}-keywords")
            py, py_rss = python_run("keywords", path, minilm)
            rows.append((name, "keywords (MiniLM)", n / run, n / py["run"], load, py["load"], rss, py_rss))
            # The goal's ratio: lede's whole pipeline against KeyBERT's keywords alone, same articles;
            # also with the weighted keyword ranking (two embedding passes), the default until 2026-12-05.
            whole = next(r for r in rows if r[0] == name and r[1].startswith("whole pipeline"))
            keybert = n / py["run"]
            _, weighted_run, _, _ = lede_run(args.lede, path, ["--keyword-ranker", "weighted"], tmp, f"{name}-weighted")
            ratios.append((name, whole[2], n / weighted_run, keybert))
    peak = matmul_peak(os.cpu_count())
    print("\n| set | what | lede /s | Python /s | speed-up | load s (lede / Python) | peak RSS MiB (lede / Python) |")
    print("|---|---|---|---|---|---|---|")
    for name, what, ours, theirs, load, py_load, rss, py_rss in rows:
        unit = "" if "tokens" in what else " articles"
        print(f"| {name} | {what} | {ours:.1f}{unit} | {theirs:.1f}{unit} | {ours / theirs:.2f}x | "
              f"{load:.1f} / {py_load:.1f} | {rss:.0f} / {py_rss:.0f} |")
    print("\n| set | lede whole pipeline, articles/s | the same, --keyword-ranker weighted | KeyBERT keywords only (MiniLM) | "
          "ratio: default / weighted |")
    print("|---|---|---|---|---|")
    for name, default, weighted, keybert in ratios:
        print(f"| {name} | {default:.2f} | {weighted:.2f} | {keybert:.2f} | {default / keybert:.2f}x / {weighted / keybert:.2f}x |")
    print(f"\nfp32 matmul peak (torch, {os.cpu_count()} threads): {peak:.1f} GFLOP/s\n")
    print("| set | embedder | mean padded length | achieved GFLOP/s | share of peak |")
    print("|---|---|---|---|---|")
    for name, model, seq, gflops in limit_rows:
        print(f"| {name} | {model} | {seq:.0f} | {gflops:.1f} | {100 * gflops / peak:.0f}% |")


if __name__ == "__main__":
    main()
