#!/usr/bin/env python3
"""Learnt teaser rankers against lede's unsupervised ranking, LEAD-k and the ROUGE oracle, in one run:
5-fold cross-validation by article (folds stratified by set) on the dev halves of the summarisation
sets (CNN/DailyMail, XSum, MLSUM, PSC), read from the evaluation folder and never copied anywhere.

Each article's sentences and signals come from lede itself (`lede segment`, and `lede enrich
--summary-explain`, which writes every candidate sentence's signals, vectors and pairwise cosines),
so every learner sees exactly what `enrich` computes. Labels: a greedy ROUGE oracle (the candidates
that together best match the reference, by mean ROUGE-1/ROUGE-2 F1 from PyPI rouge-score, up to the
set's summary length), and each sentence's own ROUGE against the reference. Learners, all seeded and
full-batch (float64), so a rerun prints the same table:

  - linear / MLP (8 tanh units) over the standardised signals, listwise loss (softmax over an
    article's candidates) against the oracle sentences;
  - linear, listwise against each sentence's own ROUGE (softmax at temperature 0.05);
  - lede's ranking score plus each sentence's vector (centred on its article), listwise on the oracle;
  - direct ROUGE maximisation: coordinate ascent on a linear score's weights, from lede's ranking;
  - a gate per article: logistic regression on what the article's candidates say about its lead (how
    central and how like the title it is, how like the second sentence, where the most central
    sentence sits, ...) choosing between lede's ranking and the learnt own-ROUGE ranker, trained to
    predict where the learnt picks score higher (weighted by how much).

Selection is lede's: best first, no sentence too similar (cosine > 0.95) to one already picked,
then article order. Scored as benches/eval_summary.py scores.

    python3 benches/teaser_ranker.py [--eval-dir ../shared/eval] [--lede target/release/lede]

Needs numpy and rouge-score==0.1.2. None of the learners beats the unsupervised ranking on CNN/DM
(benches/QUALITY.md), so lede ships none; this script is how the next idea gets measured.
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from eval_summary import references, rouge_f1, run, scorer_for  # noqa: E402

ROOT = os.path.join(HERE, "..")
SEED = 20261205

# The summarisation sets, with eval_summary.py's summary lengths and reference fields (in the order
# the published table was trained in: articles are concatenated in this order).
SETS = [
    ("cnndm_test_frank.jsonl", 3, "reference_summary"),
    ("xsum_test.jsonl", 1, "reference_summary"),
    ("mlsum_sample.jsonl", 2, "reference_summary"),
    ("psc_pl_sample.jsonl", 5, "reference_summaries"),
]

_scorers = {}


def rouge(lang, refs, picked):
    """Mean over references of (R-1, R-2, R-Lsum) F1, as benches/eval_summary.py scores."""
    if lang not in _scorers:
        _scorers[lang] = scorer_for(lang)
    return np.array(rouge_f1(_scorers[lang], refs, picked))


def mean_r12(a, picked):
    """The oracle's objective: mean of ROUGE-1 and ROUGE-2 F1 of `picked` against the article's references."""
    r = rouge(a["lang"], a["refs"], picked)
    return (r[0] + r[1]) / 2


def load_articles(lede, eval_dir):
    """One dict per article: its set, language, k, references, sentences, candidates, signals."""
    articles = []
    for fname, k, ref_field in SETS:
        path = os.path.join(eval_dir, fname)
        records = {}
        for line in open(path, encoding="utf-8"):
            r = json.loads(line)
            records[r["id"]] = r
        segs = {r["id"]: r["sentences"] for r in run([lede, "segment", path])}
        out = run([lede, "enrich", "--quiet", "--no-topics", "--no-keywords", "--summary-explain", "--summary-sentences", str(k), "--summary-chars", "100000", path])
        for o in out:
            s = o.get("lede", {}).get("summary", {})
            ex = s.get("explain")
            if not ex or not ex["candidates"]:
                continue
            r = records[o["id"]]
            refs = references(r, ref_field)
            articles.append({
                "set": fname.split(".")[0], "id": o["id"], "lang": r["lang"], "k": k, "refs": refs,
                "sentences": segs[o["id"]], "candidates": ex["candidates"], "features": ex["features"],
                "x": np.array(ex["signals"], dtype=np.float64), "cos": np.array(ex["cosines"]),
                "v": np.array(ex["vectors"], dtype=np.float64),
                "centroid_picks": s.get("sentences", []),
            })
    return articles


def oracle(a):
    """Greedy ROUGE oracle over the candidates: indices into a["candidates"]."""
    chosen, best = [], 0.0
    while len(chosen) < a["k"]:
        gains = []
        for c in range(len(a["candidates"])):
            if c in chosen:
                continue
            picked = [a["sentences"][a["candidates"][j]] for j in sorted(chosen + [c])]
            gains.append((mean_r12(a, picked), -c, c))
        if not gains:
            break
        score, _, c = max(gains)
        if score <= best:
            break
        best = score
        chosen.append(c)
    return sorted(chosen)


def select(a, scores, max_redundancy=0.95):
    """What lede does with a learnt ranker: best first, skipping repeats; then article order."""
    picked = []
    for c in sorted(range(len(scores)), key=lambda c: (-scores[c], c)):
        if len(picked) == a["k"]:
            break
        if any(a["cos"][c][p] > max_redundancy for p in picked):
            continue
        picked.append(c)
    return [a["candidates"][c] for c in sorted(picked)]


def listwise(arts, design, target, penalty, epochs=400, lr=0.02, hidden=0):
    """Softmax over each article's candidates against `target(a)`, every article weighing the same.
    `design(a)` gives the rows; `penalty` the L2 weight of each column. Returns a scoring function."""
    x = np.concatenate([design(a) for a in arts])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    xs = (x - mean) / scale
    spans, tg, start = [], np.zeros(len(x)), 0
    for a in arts:
        n = len(a["x"])
        spans.append((start, start + n))
        tg[start:start + n] = target(a)
        start += n
    rng = np.random.default_rng(SEED)
    if hidden:
        params = [rng.normal(0, 1 / np.sqrt(x.shape[1]), (hidden, x.shape[1])), np.zeros(hidden),
                  rng.normal(0, 1 / np.sqrt(hidden), hidden)]
    else:
        params = [np.zeros(x.shape[1])]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]

    def forward(xs):
        if hidden:
            h = np.tanh(xs @ params[0].T + params[1])
            return h, h @ params[2]
        return None, xs @ params[0]

    for t in range(1, epochs + 1):
        h, logits = forward(xs)
        g = np.zeros(len(x))
        for s, e in spans:
            z = np.exp(logits[s:e] - logits[s:e].max())
            g[s:e] = (z / z.sum() - tg[s:e]) / len(arts)
        if hidden:
            gh = np.outer(g, params[2]) * (1 - h * h)
            grads = [gh.T @ xs + penalty * params[0], gh.sum(axis=0), g @ h + 1e-3 * params[2]]
        else:
            grads = [g @ xs + penalty * params[0]]
        for i, (p, gr) in enumerate(zip(params, grads)):
            m[i] = 0.9 * m[i] + 0.1 * gr
            v[i] = 0.999 * v[i] + 0.001 * gr * gr
            p -= lr * (m[i] / (1 - 0.9 ** t)) / (np.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8)
    return lambda a: forward((design(a) - mean) / scale)[1]


def rule_score(a):
    """lede's unsupervised relevance (centroid 1.0, title 0.5, position prior 0.3)."""
    f = a["features"]
    x = a["x"]
    return x[:, f.index("centrality")] + 0.5 * x[:, f.index("title_similarity")] + 0.3 * x[:, f.index("position_prior")]


def oracle_target(a):
    t = np.zeros(len(a["x"]))
    for c in a["y"]:
        t[c] = 1.0 / len(a["y"])
    return t


def own_rouge_target(a):
    z = np.exp((a["g"] - a["g"].max()) / 0.05)
    return z / z.sum()


def coordinate_ascent(arts, rounds=2, steps=(-1, -0.5, -0.25, -0.1, 0.1, 0.25, 0.5, 1)):
    """Weights of a linear score over the raw signals that maximise the mean ROUGE-1/2 of the picks
    (every set weighing the same), from lede's ranking, one signal at a time."""
    f = arts[0]["features"]
    w = np.zeros(len(f))
    w[f.index("centrality")], w[f.index("title_similarity")], w[f.index("position_prior")] = 1.0, 0.5, 0.3
    sizes = {}
    for a in arts:
        sizes[a["set"]] = sizes.get(a["set"], 0) + 1

    def objective(w):
        total = 0.0
        for a in arts:
            key = tuple(select(a, a["x"] @ w))
            if key not in a["memo"]:
                a["memo"][key] = mean_r12(a, [a["sentences"][i] for i in key])
            total += a["memo"][key] / sizes[a["set"]]
        return total

    best = objective(w)
    for _ in range(rounds):
        improved = False
        for j in range(len(w)):
            for step in steps:
                trial = w.copy()
                trial[j] += step
                value = objective(trial)
                if value > best + 1e-9:
                    best, w, improved = value, trial, True
        if not improved:
            break
    return lambda a: a["x"] @ w


LEARNERS = {
    "linear, listwise on the oracle": lambda arts: listwise(arts, lambda a: a["x"], oracle_target, 1e-3),
    "MLP (8 tanh), listwise on the oracle": lambda arts: listwise(arts, lambda a: a["x"], oracle_target, 1e-3,
                                                                  hidden=8),
    "linear, listwise on each sentence's ROUGE": lambda arts: listwise(arts, lambda a: a["x"], own_rouge_target, 1e-3),
    "lede's score + sentence vectors, listwise on the oracle": lambda arts: listwise(
        arts, lambda a: np.column_stack([rule_score(a), a["v"] - a["v"].mean(axis=0)]), oracle_target, 0.1),
    "linear, direct ROUGE (coordinate ascent)": coordinate_ascent,
}


def article_signals(a):
    """What an article's candidates say about whether its lead is the story (the gate's inputs)."""
    f, x, cos = a["features"], a["x"], a["cos"]
    n = len(x)
    return np.array([
        x[0, f.index("lead_centrality_z")], x[0, f.index("lead_title_z")], x[0, f.index("log_candidates")],
        x[0, f.index("has_title")], x[0, f.index("log_words")], cos[0][1] if n > 1 else 1.0,
        x[0, f.index("quote")], x[0, f.index("digits")], x[0, f.index("centrality_rank")],
        float(np.argmax(x[:, f.index("centrality")])) / max(n - 1, 1), float(np.mean(cos)),
        x[:, f.index("first_paragraph")].mean(),
    ])


def logistic(x, y, weight, penalty=1e-2, epochs=2000, lr=0.05):
    """Weighted logistic regression (seeded by construction: starts at zero). Returns P(y=1|x)."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    design = lambda x: np.column_stack([(x - mean) / scale, np.ones(len(x))])  # noqa: E731
    xs, w = design(x), np.zeros(x.shape[1] + 1)
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, epochs + 1):
        p = 1 / (1 + np.exp(-(xs @ w)))
        g = xs.T @ ((p - y) * weight) / weight.sum() + penalty * np.r_[w[:-1], 0]
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return lambda x: 1 / (1 + np.exp(-(design(x) @ w)))


def gated_picks(train_arts, held):
    """Per held-out article, lede's picks or the learnt own-ROUGE ranker's, as the gate says."""
    score = LEARNERS["linear, listwise on each sentence's ROUGE"](train_arts)

    lede = lambda a: [a["sentences"][i] for i in a["centroid_picks"]]  # noqa: E731
    learnt = lambda a: [a["sentences"][c] for c in select(a, score(a))]  # noqa: E731
    gains = np.array([mean_r12(a, learnt(a)) - mean_r12(a, lede(a)) for a in train_arts])
    sizes = {}
    for a in train_arts:
        sizes[a["set"]] = sizes.get(a["set"], 0) + 1
    weight = (np.abs(gains) + 1e-3) / np.array([sizes[a["set"]] for a in train_arts])
    gate = logistic(np.array([article_signals(a) for a in train_arts]), (gains > 0).astype(float), weight)
    return [learnt(a) if gate(article_signals(a)[None])[0] > 0.5 else lede(a) for a in held]


def folds_of(articles, k=5):
    rng = np.random.default_rng(SEED)
    fold = {}
    for name in sorted({a["set"] for a in articles}):
        ids = sorted(a["id"] for a in articles if a["set"] == name)
        for i, j in enumerate(rng.permutation(len(ids))):
            fold[(name, ids[j])] = i % k
    return [fold[(a["set"], a["id"])] for a in articles]


def report(articles, picks_by_method):
    rows = []
    keys = sorted({(a["set"], a["lang"]) for a in articles})
    for key in keys:
        idx = [i for i, a in enumerate(articles) if (a["set"], a["lang"]) == key]
        for method, picks in picks_by_method.items():
            tot = sum(rouge(articles[i]["lang"], articles[i]["refs"], picks[i]) for i in idx)
            rows.append((*key, len(idx), method, *(100 * tot / len(idx))))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=os.path.join(ROOT, "..", "shared", "eval"))
    ap.add_argument("--lede", default=os.path.join(ROOT, "target", "release", "lede"))
    args = ap.parse_args()

    articles = load_articles(args.lede, args.eval_dir)
    for a in articles:
        a["y"] = oracle(a)
        a["g"] = np.array([mean_r12(a, [a["sentences"][c]]) for c in a["candidates"]])
        a["memo"] = {}
    print(f"{len(articles)} articles, {sum(len(a['x']) for a in articles)} candidate sentences", file=sys.stderr)

    folds = folds_of(articles)
    picks = {
        "lede (unsupervised)": [[a["sentences"][i] for i in a["centroid_picks"]] for a in articles],
        "LEAD-k": [a["sentences"][:a["k"]] for a in articles],
    }
    for name, learner in LEARNERS.items():
        picked = [None] * len(articles)
        for f in range(5):
            score = learner([a for a, g in zip(articles, folds) if g != f])
            for i, (a, g) in enumerate(zip(articles, folds)):
                if g == f:
                    picked[i] = [a["sentences"][c] for c in select(a, score(a))]
        picks[name + " (5-fold CV)"] = picked
        print(f"{name}: done", file=sys.stderr)
    picked = [None] * len(articles)
    for f in range(5):
        held = [i for i, g in enumerate(folds) if g == f]
        for i, p in zip(held, gated_picks([a for a, g in zip(articles, folds) if g != f], [articles[i] for i in held])):
            picked[i] = p
    picks["gate: lede's ranking or the learnt one, per article (5-fold CV)"] = picked
    print("gate: done", file=sys.stderr)
    picks["oracle"] = [[a["sentences"][a["candidates"][c]] for c in a["y"]] for a in articles]
    print("| set | lang | n | method | R-1 | R-2 | R-Lsum |\n|---|---|---|---|---|---|---|")
    for row in report(articles, picks):
        print("| %s | %s | %d | %s | %.2f | %.2f | %.2f |" % row)


if __name__ == "__main__":
    main()
