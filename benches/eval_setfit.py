#!/usr/bin/env python3
"""Does contrastive fine-tuning of the embedder's last layers (SetFit-style pairs) pay for `lede learn`?

Issue 19 asks to measure it before building it into lede. This script answers on the four topic sets
with one controlled comparison, on the same articles and the same representation:

  frozen:  multilingual-e5-small as shipped, mean-pooled over the article's first --max-tokens tokens
           ("passage: " + title + text), L2-normalised; a logistic-regression head on the train articles.
  SetFit:  the same, but first the last --layers encoder layers are trained on pairs of train articles
           (same class -> cosine 1, different class -> cosine 0; --pairs pairs per article, half of each
           kind; CosineSimilarityLoss, AdamW, one epoch), then the same head.

Train articles: the first --per-class of each class in file order (as benches/eval_topics.py's
"10/class"); scored on the rest. The layers below the trained ones are frozen, so their output is
computed once per article. Seeded: the same run gives the same figures.

Needs torch, transformers, scikit-learn (any venv with sentence-transformers has them).
    python3 benches/eval_setfit.py [--per-class 10] [--layers 2] [--pairs 20]
"""
import argparse
import copy
import json
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETS = ["bbc_news_topics", "agnews_test_sample", "gnad10k_de_test_sample", "polsatnews_pl_topics"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=os.path.join(ROOT, "..", "shared", "eval"))
    ap.add_argument("--models", default=os.path.join(ROOT, "models", "installed"))
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--per-class", type=int, default=10)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import tempfile

    import numpy as np
    import torch
    from sklearn.linear_model import LogisticRegression
    from transformers import AutoModel, AutoTokenizer

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from throughput import e5_for_transformers

    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    tmp = tempfile.mkdtemp()
    folder = e5_for_transformers(os.path.join(args.models, "multilingual-e5-small"), tmp)
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    layers = model.encoder.layer
    frozen_depth = len(layers) - args.layers

    def lower(texts):
        """Hidden states after the frozen layers, and the attention masks."""
        out = []
        with torch.no_grad():
            for i in range(0, len(texts), 16):
                enc = tok(texts[i:i + 16], truncation=True, max_length=args.max_tokens, padding=True,
                          return_tensors="pt")
                h = model(**enc, output_hidden_states=True).hidden_states[frozen_depth]
                for j in range(h.shape[0]):
                    n = int(enc["attention_mask"][j].sum())
                    out.append(h[j, :n].clone())
        return out

    def upper(top, hidden):
        """The trainable layers over one article's frozen states: its mean-pooled, normalised vector."""
        h = hidden.unsqueeze(0)
        for layer in top:
            out = layer(h)
            h = out[0] if isinstance(out, tuple) else out
        v = h[0].mean(0)
        return v / v.norm()

    def vectors(top, hs):
        with torch.no_grad():
            return np.stack([upper(top, h).numpy() for h in hs])

    def head_accuracy(xtr, ytr, xte, yte):
        clf = LogisticRegression(C=10.0, max_iter=2000).fit(xtr, ytr)
        return float((clf.predict(xte) == np.array(yte)).mean())

    print(f"e5-small, last {args.layers} of {len(layers)} layers trained, {args.pairs} pairs an article, "
          f"{args.max_tokens} tokens, {args.per_class} train articles a class, seed {args.seed}\n")
    print("| set | train | test | frozen e5 + head | SetFit e5 + head | training s |")
    print("|---|---|---|---|---|---|")
    for name in args.sets.split(","):
        records = [json.loads(l) for l in open(os.path.join(args.eval_dir, name + ".jsonl"), encoding="utf-8")]
        seen, train, test = {}, [], []
        for r in records:
            c = r["gold_category"]
            if seen.get(c, 0) < args.per_class:
                seen[c] = seen.get(c, 0) + 1
                train.append(r)
            else:
                test.append(r)
        text = lambda r: "passage: " + ((r.get("title") or "") + "\n" + r["text"]).strip()  # noqa: E731
        htr, hte = lower([text(r) for r in train]), lower([text(r) for r in test])
        ytr, yte = [r["gold_category"] for r in train], [r["gold_category"] for r in test]
        top = torch.nn.ModuleList(layers[frozen_depth:])
        frozen = head_accuracy(vectors(top, htr), ytr, vectors(top, hte), yte)

        # SetFit's pair sampling: for each article, pairs/2 positives and pairs/2 negatives.
        rng = random.Random(args.seed)
        by_class = {}
        for i, y in enumerate(ytr):
            by_class.setdefault(y, []).append(i)
        pairs = []
        for i, y in enumerate(ytr):
            others = [j for j in range(len(ytr)) if ytr[j] != y]
            same = [j for j in by_class[y] if j != i]
            for _ in range(args.pairs // 2):
                pairs.append((i, rng.choice(same), 1.0))
                pairs.append((i, rng.choice(others), 0.0))
        rng.shuffle(pairs)
        tuned = copy.deepcopy(top).train()
        # Dropout off: the pairs are few, and the run must be reproducible.
        for m in tuned.modules():
            if isinstance(m, torch.nn.Dropout):
                m.p = 0.0
        opt = torch.optim.AdamW(tuned.parameters(), lr=args.lr)
        t0 = time.perf_counter()
        for b in range(0, len(pairs), args.batch):
            batch = pairs[b:b + args.batch]
            a = torch.stack([upper(tuned, htr[i]) for i, _, _ in batch])
            c = torch.stack([upper(tuned, htr[j]) for _, j, _ in batch])
            target = torch.tensor([t for _, _, t in batch])
            loss = torch.nn.functional.mse_loss((a * c).sum(-1), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - t0
        tuned.eval()
        setfit = head_accuracy(vectors(tuned, htr), ytr, vectors(tuned, hte), yte)
        print(f"| {name} | {len(train)} | {len(test)} | {100 * frozen:.1f} | {100 * setfit:.1f} | {seconds:.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
