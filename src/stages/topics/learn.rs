//! Training a topic head (`head::HeadWeights`) on articles tagged by hand, with tch autograd on the
//! CPU: the weights over the article vector (a free part, and the subject's centroid, the mean of
//! its articles, at one shared weight), each subject's bias and the weight of the zero-shot
//! evidence, by multi-label logistic loss (each subject its own probability) with an L2 penalty
//! chosen by cross-validation; then Platt scaling fitted on the held-out predictions, so scores
//! are probabilities on articles the head has not seen.
//!
//! Deterministic: the weights start at zero, every step sees the whole set, folds are fixed by
//! the examples' keys, and training runs on one thread; same examples and options give the same
//! bytes.
use super::head::{
    blend, margins, reads_language, HeadWeights, LexicalWeights, Platt, SHARE_FLOOR,
};
use super::lexical::Lexicon;
use serde::Serialize;
use std::collections::BTreeMap;
use tch::{nn, nn::OptimizerConfig, Device, Kind, Reduction, Tensor};

/// One tagged article, as the head sees it.
#[derive(Debug, Clone)]
pub struct Example {
    /// Identifies the article (its content hash): decides its fold.
    pub key: String,
    /// The article vector (body and title, L2-normalised).
    pub x: Vec<f32>,
    /// Each subject's zero-shot vote share (`topics::branch_shares`).
    pub shares: Vec<f32>,
    /// The subjects it is tagged with (indices into the head's labels).
    pub tags: Vec<usize>,
    /// Its character-gram features (`lexical::Lexicon::features`, columns of the lexicon given
    /// to [`train`]); empty when trained without one.
    pub grams: Vec<(u32, f32)>,
    /// The article's language code (held-out figures per language).
    pub language: String,
}

/// How a head is trained.
#[derive(Debug, Clone, Serialize)]
pub struct LearnOptions {
    /// Cross-validation folds (for choosing the penalty, calibrating, and the report).
    pub folds: usize,
    /// Full-batch Adam steps.
    pub epochs: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// L2 penalties tried on the weights; the best by cross-validated accuracy is kept.
    pub penalties: Vec<f64>,
    /// L2 penalties tried on the character-gram weights, at the penalty chosen for the rest; the
    /// grams are kept only where one of them beats the head without them on held-out articles.
    pub gram_penalties: Vec<f64>,
    /// The article languages whose grams the head learns from and reads (empty: every language);
    /// articles in other languages are learnt and scored on their vectors alone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gram_languages: Vec<String>,
    /// Probability at or above which a subject counts as given (per-tag F1 in the report).
    pub threshold: f32,
    /// Whether article vectors are taken from their language's centre (`centre`) before the head
    /// learns from and reads them, so that it cannot learn a language for a subject.
    pub language_centres: bool,
}

impl Default for LearnOptions {
    fn default() -> Self {
        LearnOptions {
            folds: 5,
            epochs: 200,
            learning_rate: 0.05,
            penalties: vec![1e-3, 1e-2, 1e-1, 1.0],
            gram_penalties: vec![1e-6, 1e-5, 1e-4],
            gram_languages: Vec::new(),
            threshold: super::DEFAULT_THRESHOLD,
            language_centres: true,
        }
    }
}

impl LearnOptions {
    /// Whether the head learns from, and reads, the grams of articles in `language`.
    pub fn reads_grams_of(&self, language: &str) -> bool {
        reads_language(&self.gram_languages, language)
    }
}

/// How well a way of scoring did on held-out articles.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Scores {
    /// Share of articles whose most likely subject is one of their tags.
    pub accuracy: f64,
    /// Expected calibration error of the most likely subject (10 equal-width bins).
    pub ece: f64,
    /// Share of articles given at least one subject at or above the threshold.
    pub coverage: f64,
    /// Among subjects given at or above the threshold: the share that are tags.
    pub precision: f64,
    /// Among subjects given at 0.8 or above: the share that are tags (`null` when none).
    pub precision_at_80: Option<f64>,
    /// Micro-averaged F1 of subjects at or above the threshold against the tags.
    pub f1: f64,
}

/// One tag's held-out figures (learnt head).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TagScores {
    /// Articles tagged with it.
    pub articles: usize,
    /// Precision at the threshold.
    pub precision: f64,
    /// Recall at the threshold.
    pub recall: f64,
    /// F1 at the threshold.
    pub f1: f64,
}

/// Held-out accuracy on the articles of one language.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LanguageScores {
    /// Articles in the language.
    pub articles: usize,
    /// Share whose most likely subject (learnt head) is one of their tags.
    pub learned: f64,
    /// The same for the zero-shot method.
    pub zero_shot: f64,
}

/// What training measured, by cross-validation over the tagged articles: the learnt head beside the
/// zero-shot method (calibrated the same way) on the same folds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Metrics {
    /// Tagged articles.
    pub articles: usize,
    /// Folds.
    pub folds: usize,
    /// The L2 penalty chosen.
    pub penalty: f64,
    /// The L2 penalty chosen for the character-gram weights; `null` where the grams did not pay
    /// (the head reads the article vector and the zero-shot evidence only).
    pub gram_penalty: Option<f64>,
    /// Held-out accuracy of the head without character grams (equal to `learned.accuracy` when
    /// they were not kept).
    pub accuracy_without_grams: f64,
    /// The learnt head on held-out folds.
    pub learned: Scores,
    /// The zero-shot method on the same folds.
    pub zero_shot: Scores,
    /// Per tag (learnt head), by label id.
    pub per_tag: BTreeMap<String, TagScores>,
    /// Per language of the articles, by language code: a head can do well overall and poorly on
    /// the language a site publishes less in.
    pub per_language: BTreeMap<String, LanguageScores>,
}

/// A trained head and how it measured.
#[derive(Debug, Clone)]
pub struct Fit {
    /// Weights trained on every example, calibrated on held-out predictions.
    pub head: HeadWeights,
    /// Cross-validated figures.
    pub metrics: Metrics,
}

/// Runs `f` on one torch thread (deterministic reductions), restoring the thread count after.
fn single_threaded<T>(f: impl FnOnce() -> T) -> T {
    let before = tch::get_num_threads();
    tch::set_num_threads(1);
    let out = f();
    tch::set_num_threads(before);
    out
}

struct Tensors {
    x: Tensor,
    prior: Tensor,
    y: Tensor,
}

fn tensors(examples: &[&Example], labels: usize, dim: usize) -> Tensors {
    let n = examples.len() as i64;
    let x: Vec<f32> = examples.iter().flat_map(|e| e.x.iter().copied()).collect();
    let prior: Vec<f32> = examples
        .iter()
        .flat_map(|e| e.shares.iter().map(|s| (s + SHARE_FLOOR).ln()))
        .collect();
    let mut y = vec![0f32; examples.len() * labels];
    for (i, e) in examples.iter().enumerate() {
        for &t in &e.tags {
            y[i * labels + t] = 1.0;
        }
    }
    Tensors {
        x: Tensor::from_slice(&x).view([n, dim as i64]),
        prior: Tensor::from_slice(&prior).view([n, labels as i64]),
        y: Tensor::from_slice(&y).view([n, labels as i64]),
    }
}

fn to_vec(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.detach().flatten(0, -1).to_kind(Kind::Float))
        .expect("a float tensor converts")
}

/// Weights (w, b, prior, and the gram weights where `grams` gives a lexicon and its penalty)
/// fitted on `train` with penalty `l2`; Platt left at identity.
fn fit_weights(
    train: &[&Example],
    labels: usize,
    dim: usize,
    l2: f64,
    grams: Option<(&Lexicon, f64)>,
    options: &LearnOptions,
) -> HeadWeights {
    let t = tensors(train, labels, dim);
    // Each label's centroid: the normalised mean vector of its training articles (zero for a
    // label without any), `dim × labels`.
    let sums = t.x.transpose(0, 1).matmul(&t.y);
    let centroids = &sums / sums.norm_scalaropt_dim(2, [0], true).clamp_min(1e-6);
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let w = root.zeros("w", &[dim as i64, labels as i64]);
    let b = root.zeros("b", &[labels as i64]);
    let prior = root.ones("prior", &[1]);
    let proto = root.zeros("proto", &[1]);
    let mut g = grams.map(|(_, l2)| GramWeights::new(train, labels, l2));
    let mut opt = nn::Adam::default()
        .build(&vs, options.learning_rate)
        .expect("Adam over a fresh VarStore");
    for _ in 0..options.epochs {
        let weights = &w + &centroids * &proto;
        let logits = &t.prior * &prior + t.x.matmul(&weights) + &b;
        // Summed over subjects, averaged over articles. The penalty holds back the free weights,
        // not the centroid term: one shared weight on "how near the label's own articles", which
        // a handful of examples can already fit.
        let surface = g.as_ref().map(|g| {
            Tensor::from_slice(&g.surface())
                .view([train.len() as i64, labels as i64])
                .set_requires_grad(true)
        });
        let logits = match &surface {
            Some(s) => logits + s,
            None => logits,
        };
        let loss =
            logits.binary_cross_entropy_with_logits::<Tensor>(&t.y, None, None, Reduction::Mean)
                * labels as f64
                + w.pow_tensor_scalar(2).sum(Kind::Float) * l2;
        opt.zero_grad();
        loss.backward();
        opt.step();
        if let (Some(g), Some(s)) = (&mut g, &surface) {
            g.step(&to_vec(&s.grad()), options.learning_rate);
        }
    }
    let weights = tch::no_grad(|| &w + &centroids * &proto);
    // Stored label-major: each subject's row of weights (the centroid term folded in).
    HeadWeights {
        dim,
        w: to_vec(&weights.transpose(0, 1).contiguous()),
        b: to_vec(&b),
        prior: to_vec(&prior)[0],
        platt: Platt::new(1.0, 0.0),
        lexical: g.zip(grams).map(|(g, (lexicon, _))| LexicalWeights {
            lexicon: lexicon.clone(),
            w: g.dense(lexicon.len()),
            languages: options.gram_languages.clone(),
            other_languages: None,
        }),
        centres: None,
    }
}

/// The weights over character grams, trained beside the tch variables by hand: the features are
/// sparse (a few thousand of 65,536 grams an article), so the logits' gradient from autograd is
/// carried back through them directly, and only the grams the training articles contain are
/// stored and stepped (Adam, as tch's: the same rate, betas 0.9 / 0.999). Deterministic: fixed
/// order, one thread.
struct GramWeights {
    /// The lexicon columns seen in training, sorted; row `i` of the weights belongs to `columns[i]`.
    columns: Vec<u32>,
    /// Each article's (row, value) pairs.
    rows: Vec<Vec<(usize, f32)>>,
    labels: usize,
    l2: f32,
    w: Vec<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
    steps: i32,
}

impl GramWeights {
    fn new(train: &[&Example], labels: usize, l2: f64) -> GramWeights {
        let mut columns: Vec<u32> = train
            .iter()
            .flat_map(|e| e.grams.iter().map(|g| g.0))
            .collect();
        columns.sort_unstable();
        columns.dedup();
        let rows = train
            .iter()
            .map(|e| {
                e.grams
                    .iter()
                    .map(|&(c, v)| (columns.binary_search(&c).expect("a column seen"), v))
                    .collect()
            })
            .collect();
        let size = columns.len() * labels;
        GramWeights {
            columns,
            rows,
            labels,
            l2: l2 as f32,
            w: vec![0.0; size],
            m: vec![0.0; size],
            v: vec![0.0; size],
            steps: 0,
        }
    }

    /// Each article's gram part of the logits, `articles × labels`.
    fn surface(&self) -> Vec<f32> {
        let l = self.labels;
        let mut out = vec![0f32; self.rows.len() * l];
        for (i, row) in self.rows.iter().enumerate() {
            let o = &mut out[i * l..(i + 1) * l];
            for &(r, x) in row {
                for (o, w) in o.iter_mut().zip(&self.w[r * l..(r + 1) * l]) {
                    *o += x * w;
                }
            }
        }
        out
    }

    /// One Adam step, given the loss's gradient with respect to `surface()` (plus the penalty).
    fn step(&mut self, d_surface: &[f32], rate: f64) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        let l = self.labels;
        let mut grad: Vec<f32> = self.w.iter().map(|w| 2.0 * self.l2 * w).collect();
        for (i, row) in self.rows.iter().enumerate() {
            let d = &d_surface[i * l..(i + 1) * l];
            for &(r, x) in row {
                for (g, d) in grad[r * l..(r + 1) * l].iter_mut().zip(d) {
                    *g += x * d;
                }
            }
        }
        self.steps += 1;
        let step = rate as f32 / (1.0 - B1.powi(self.steps));
        let correction = (1.0 - B2.powi(self.steps)).sqrt();
        for (((w, m), v), g) in self
            .w
            .iter_mut()
            .zip(&mut self.m)
            .zip(&mut self.v)
            .zip(grad)
        {
            *m = B1 * *m + (1.0 - B1) * g;
            *v = B2 * *v + (1.0 - B2) * g * g;
            *w -= step * *m / (v.sqrt() / correction + 1e-8);
        }
    }

    /// The weights of every lexicon column, `grams × labels` (zero for grams not seen).
    fn dense(&self, grams: usize) -> Vec<f32> {
        let l = self.labels;
        let mut out = vec![0f32; grams * l];
        for (r, &c) in self.columns.iter().enumerate() {
            out[c as usize * l..(c as usize + 1) * l].copy_from_slice(&self.w[r * l..(r + 1) * l]);
        }
        out
    }
}

/// Platt scaling on the logit and its margin, fitted to (logit, margin, applies) rows by logistic
/// loss. Both slopes are kept positive (`a = exp(α)`, `margin = exp(μ)`): a higher logit never means
/// a lower probability, even where a few held-out predictions happen to run backwards (a handful of
/// tagged articles); the fit then flattens towards the base rate instead of inverting the ranking.
/// The margin weighs as much as the archive says: much where an article has one tag (a clear first
/// is surer than a close race), little where articles carry several.
pub fn fit_platt(rows: &[(f32, f32, bool)]) -> Platt {
    if rows.is_empty() {
        return Platt::new(1.0, 0.0);
    }
    let column = |f: fn(&(f32, f32, bool)) -> f32| {
        Tensor::from_slice(&rows.iter().map(f).collect::<Vec<f32>>())
    };
    let (z, m, y) = (
        column(|r| r.0),
        column(|r| r.1),
        column(|r| f32::from(u8::from(r.2))),
    );
    let vs = nn::VarStore::new(Device::Cpu);
    let log_a = vs.root().zeros("log_a", &[1]);
    let c = vs.root().zeros("c", &[1]);
    let log_m = vs.root().var("log_m", &[1], nn::Init::Const(-2.0));
    let mut opt = nn::Adam::default()
        .build(&vs, 0.05)
        .expect("Adam over a fresh VarStore");
    for _ in 0..500 {
        let loss = (&z * log_a.exp() + &m * log_m.exp() + &c)
            .binary_cross_entropy_with_logits::<Tensor>(&y, None, None, Reduction::Mean);
        opt.backward_step(&loss);
    }
    Platt {
        a: to_vec(&log_a.exp())[0],
        c: to_vec(&c)[0],
        margin: to_vec(&log_m.exp())[0],
    }
}

/// Fold of each example: stratified by first tag, then by key, dealt round-robin.
fn folds(examples: &[Example], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.sort_by(|&a, &b| {
        let ka = (examples[a].tags.first(), &examples[a].key);
        let kb = (examples[b].tags.first(), &examples[b].key);
        ka.cmp(&kb).then(a.cmp(&b))
    });
    let mut fold = vec![0; examples.len()];
    for (n, i) in order.into_iter().enumerate() {
        fold[i] = n % k;
    }
    fold
}

/// Held-out logits of every example (each from the head trained without its fold).
fn out_of_fold(
    examples: &[Example],
    fold: &[usize],
    labels: usize,
    dim: usize,
    l2: f64,
    grams: Option<(&Lexicon, f64)>,
    options: &LearnOptions,
) -> Vec<Vec<f32>> {
    let mut out = vec![Vec::new(); examples.len()];
    let k = fold.iter().max().map_or(0, |m| m + 1);
    for f in 0..k {
        let train: Vec<&Example> = examples
            .iter()
            .zip(fold)
            .filter(|(_, &g)| g != f)
            .map(|(e, _)| e)
            .collect();
        let head = fit_weights(&train, labels, dim, l2, grams, options);
        for (i, e) in examples.iter().enumerate() {
            if fold[i] == f {
                out[i] = head.logits(&e.x, &e.shares, &e.grams);
            }
        }
    }
    out
}

/// One (logit, margin, applies) row for every subject of every example.
fn calibration_rows<'a>(
    scored: impl IntoIterator<Item = (&'a Example, &'a Vec<f32>)>,
) -> Vec<(f32, f32, bool)> {
    scored
        .into_iter()
        .flat_map(|(e, z)| {
            z.iter()
                .zip(margins(z))
                .enumerate()
                .map(move |(l, (&z, m))| (z, m, e.tags.contains(&l)))
        })
        .collect()
}

fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// Held-out figures of calibrated probabilities `probs` against the examples' tags.
pub fn score(examples: &[Example], probs: &[Vec<f32>], threshold: f32) -> Scores {
    let n = examples.len().max(1) as f64;
    let mut right = 0usize;
    let mut bins = [(0f64, 0f64, 0usize); 10];
    let (mut given, mut given_right, mut covered, mut tags) = (0usize, 0usize, 0usize, 0usize);
    let (mut at80, mut at80_right) = (0usize, 0usize);
    for (e, p) in examples.iter().zip(probs) {
        let top = argmax(p);
        let ok = e.tags.contains(&top);
        right += ok as usize;
        let bin = ((p[top] * 10.0) as usize).min(9);
        bins[bin].0 += f64::from(p[top]);
        bins[bin].1 += ok as usize as f64;
        bins[bin].2 += 1;
        tags += e.tags.len();
        let mut any = false;
        for (l, &q) in p.iter().enumerate() {
            if q >= threshold {
                any = true;
                given += 1;
                given_right += e.tags.contains(&l) as usize;
            }
            if q >= 0.8 {
                at80 += 1;
                at80_right += e.tags.contains(&l) as usize;
            }
        }
        covered += any as usize;
    }
    let ece = bins
        .iter()
        .filter(|b| b.2 > 0)
        .map(|b| (b.0 - b.1).abs())
        .sum::<f64>()
        / n;
    let precision = given_right as f64 / given.max(1) as f64;
    let recall = given_right as f64 / tags.max(1) as f64;
    Scores {
        accuracy: right as f64 / n,
        ece,
        coverage: covered as f64 / n,
        precision,
        precision_at_80: (at80 > 0).then(|| at80_right as f64 / at80 as f64),
        f1: if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        },
    }
}

fn per_language(
    examples: &[Example],
    learned: &[Vec<f32>],
    zero_shot: &[Vec<f32>],
) -> BTreeMap<String, LanguageScores> {
    let mut out: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for ((e, l), z) in examples.iter().zip(learned).zip(zero_shot) {
        let c = out.entry(e.language.clone()).or_default();
        c.0 += 1;
        c.1 += e.tags.contains(&argmax(l)) as usize;
        c.2 += e.tags.contains(&argmax(z)) as usize;
    }
    out.into_iter()
        .map(|(language, (n, learned, zero_shot))| {
            let share = |k: usize| k as f64 / n as f64;
            let scores = LanguageScores {
                articles: n,
                learned: share(learned),
                zero_shot: share(zero_shot),
            };
            (language, scores)
        })
        .collect()
}

/// A language whose tagged articles carry one tag far more (or far less) often than the articles
/// in the other languages: a head can then learn the language for the tag, and held-out folds of
/// the same articles cannot show it, since they split the same way.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LanguageSkew {
    /// The language code.
    pub language: String,
    /// The tag (label id).
    pub tag: String,
    /// Tagged articles in the language.
    pub articles: usize,
    /// How many of them carry the tag.
    pub tagged: usize,
    /// Tagged articles in the other languages.
    pub other_articles: usize,
    /// How many of them carry the tag.
    pub other_tagged: usize,
}

/// Fewest articles on either side (the language, the rest) and fewest carrying the tag for a
/// skew to be told: below that, chance alone makes such splits.
const SKEW_MIN_ARTICLES: usize = 5;
/// How far apart the tag's shares inside and outside the language must be.
const SKEW_MIN_GAP: f64 = 0.6;

/// The languages that go with a tag (see [`LanguageSkew`]), from each tagged article's language
/// and tags (indices into `ids`); in language, then tag order.
pub fn language_skew(articles: &[(&str, &[usize])], ids: &[String]) -> Vec<LanguageSkew> {
    // Per language: its articles, and how many of them carry each tag; one pass.
    let mut languages: BTreeMap<&str, (usize, Vec<usize>)> = BTreeMap::new();
    let mut everywhere = vec![0usize; ids.len()];
    for &(language, tags) in articles {
        let (n, per_tag) = languages
            .entry(language)
            .or_insert_with(|| (0, vec![0; ids.len()]));
        *n += 1;
        for &t in tags {
            per_tag[t] += 1;
            everywhere[t] += 1;
        }
    }
    let mut out = Vec::new();
    for (&language, (n, per_tag)) in &languages {
        let (n, rest) = (*n, articles.len() - n);
        if n < SKEW_MIN_ARTICLES || rest < SKEW_MIN_ARTICLES {
            continue;
        }
        for (l, id) in ids.iter().enumerate() {
            let (tagged, other_tagged) = (per_tag[l], everywhere[l] - per_tag[l]);
            let gap = tagged as f64 / n as f64 - other_tagged as f64 / rest as f64;
            if everywhere[l] >= SKEW_MIN_ARTICLES && gap.abs() >= SKEW_MIN_GAP {
                out.push(LanguageSkew {
                    language: language.to_string(),
                    tag: id.clone(),
                    articles: n,
                    tagged,
                    other_articles: rest,
                    other_tagged,
                });
            }
        }
    }
    out
}

fn per_tag(
    examples: &[Example],
    probs: &[Vec<f32>],
    ids: &[String],
    threshold: f32,
) -> BTreeMap<String, TagScores> {
    let mut out = BTreeMap::new();
    for (l, id) in ids.iter().enumerate() {
        let (mut tp, mut fp, mut fne, mut articles) = (0usize, 0usize, 0usize, 0usize);
        for (e, p) in examples.iter().zip(probs) {
            let tagged = e.tags.contains(&l);
            let given = p[l] >= threshold;
            articles += tagged as usize;
            match (tagged, given) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fne += 1,
                _ => {}
            }
        }
        if articles == 0 && fp == 0 {
            continue;
        }
        let precision = tp as f64 / (tp + fp).max(1) as f64;
        let recall = tp as f64 / (tp + fne).max(1) as f64;
        let f1 = if tp > 0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        out.insert(
            id.clone(),
            TagScores {
                articles,
                precision,
                recall,
                f1,
            },
        );
    }
    out
}

/// The calibration of a head that reads grams for some languages, and the held-out probabilities
/// of every article as enriching gives them (blended for those languages).
type Blended = (Platt, Vec<Vec<f32>>);

/// Trains a head over `ids.len()` subjects on `examples` (vectors of length `dim`, gram features
/// in `lexicon`'s columns where one is given): chooses the penalty by cross-validated accuracy,
/// then whether the character grams pay and at which penalty, calibrates on the held-out logits,
/// reports the held-out figures beside the zero-shot method's, and fits the final weights on every
/// example.
pub fn train(
    examples: &[Example],
    ids: &[String],
    dim: usize,
    lexicon: Option<&Lexicon>,
    options: &LearnOptions,
) -> Fit {
    single_threaded(|| {
        let labels = ids.len();
        let k = options.folds.clamp(2, examples.len().max(2));
        let fold = folds(examples, k);
        // The unlearnt method on the same folds: the zero-shot evidence, calibrated.
        let zero: Vec<Vec<f32>> = examples
            .iter()
            .map(|e| e.shares.iter().map(|s| (s + SHARE_FLOOR).ln()).collect())
            .collect();
        let zero_platt = fit_platt(&calibration_rows(examples.iter().zip(&zero)));
        let zero_probs: Vec<Vec<f32>> = zero.iter().map(|z| zero_platt.probabilities(z)).collect();
        let right = |logits: &[Vec<f32>]| {
            examples
                .iter()
                .zip(logits)
                .filter(|(e, z)| e.tags.contains(&argmax(z)))
                .count()
        };
        let mut best: Option<(usize, f64, Vec<Vec<f32>>)> = None;
        for &l2 in &options.penalties {
            let logits = out_of_fold(examples, &fold, labels, dim, l2, None, options);
            let r = right(&logits);
            // Ties go to the stronger penalty: the simpler head.
            if best.as_ref().is_none_or(|b| r >= b.0) {
                best = Some((r, l2, logits));
            }
        }
        let (without, l2, plain) = best.expect("at least one penalty");
        let plain_platt = fit_platt(&calibration_rows(examples.iter().zip(&plain)));
        let plain_probs: Vec<Vec<f32>> =
            plain.iter().map(|z| plain_platt.probabilities(z)).collect();
        // With `gram_languages`, an article of those languages gets the blend of the head with
        // grams and the head without (`head::blend`), the others the head without, held out as
        // when enriching; the head with grams is calibrated on the articles it scores.
        let reads = |e: &Example| options.reads_grams_of(&e.language);
        let gated = |with: &[Vec<f32>]| -> Blended {
            let platt = fit_platt(&calibration_rows(
                examples.iter().zip(with).filter(|(e, _)| reads(e)),
            ));
            let probs = examples
                .iter()
                .zip(with)
                .zip(&plain_probs)
                .map(|((e, z), q)| {
                    if reads(e) {
                        blend(&platt.probabilities(z), q)
                    } else {
                        q.clone()
                    }
                })
                .collect();
            (platt, probs)
        };
        // The grams must beat the head without them: ties keep the simpler head.
        let mut gram_l2 = None;
        let mut best_right = without;
        let mut chosen: Option<(Vec<Vec<f32>>, Option<Blended>)> = None;
        if let Some(lexicon) = lexicon.filter(|l| !l.is_empty()) {
            for &p in &options.gram_penalties {
                let with = out_of_fold(
                    examples,
                    &fold,
                    labels,
                    dim,
                    l2,
                    Some((lexicon, p)),
                    options,
                );
                let blended = (!options.gram_languages.is_empty()).then(|| gated(&with));
                let r = match &blended {
                    Some((_, probs)) => right(probs),
                    None => right(&with),
                };
                if r > best_right {
                    (best_right, gram_l2, chosen) = (r, Some(p), Some((with, blended)));
                }
            }
        }
        let all: Vec<&Example> = examples.iter().collect();
        let (head, probs) = match (lexicon.zip(gram_l2), chosen) {
            (Some(grams), Some((logits, None))) => {
                let mut head = fit_weights(&all, labels, dim, l2, Some(grams), options);
                head.platt = fit_platt(&calibration_rows(examples.iter().zip(&logits)));
                let probs = logits.iter().map(|z| head.platt.probabilities(z)).collect();
                (head, probs)
            }
            (Some(grams), Some((_, Some((platt, probs))))) => {
                let mut head = fit_weights(&all, labels, dim, l2, Some(grams), options);
                head.platt = platt;
                let mut other = fit_weights(&all, labels, dim, l2, None, options);
                other.platt = plain_platt;
                if let Some(l) = &mut head.lexical {
                    l.other_languages = Some(Box::new(other));
                }
                (head, probs)
            }
            _ => {
                let mut head = fit_weights(&all, labels, dim, l2, None, options);
                head.platt = plain_platt;
                (head, plain_probs)
            }
        };
        let probs: Vec<Vec<f32>> = probs;
        Fit {
            head,
            metrics: Metrics {
                articles: examples.len(),
                folds: k,
                penalty: l2,
                gram_penalty: gram_l2,
                accuracy_without_grams: without as f64 / examples.len().max(1) as f64,
                learned: score(examples, &probs, options.threshold),
                zero_shot: score(examples, &zero_probs, options.threshold),
                per_tag: per_tag(examples, &probs, ids, options.threshold),
                per_language: per_language(examples, &probs, &zero_probs),
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two subjects whose zero-shot evidence is useless (equal shares) but whose articles lie on
    /// two sides of the vector space: only learning can tell them apart.
    fn toy(n: usize) -> Vec<Example> {
        (0..n)
            .map(|i| {
                let tag = i % 2;
                let wobble = (i as f32 * 0.37).sin() * 0.3;
                let x = if tag == 0 {
                    vec![1.0, wobble, 0.2]
                } else {
                    vec![wobble, 1.0, 0.2]
                };
                Example {
                    key: format!("{i:04}"),
                    x,
                    shares: vec![0.5, 0.5],
                    tags: vec![tag],
                    grams: Vec::new(),
                    language: "en".into(),
                }
            })
            .collect()
    }

    #[test]
    fn a_head_learns_what_the_zero_shot_evidence_cannot_tell() {
        let ids = vec!["a".to_string(), "b".to_string()];
        let fit = train(&toy(40), &ids, 3, None, &LearnOptions::default());
        assert_eq!(fit.metrics.learned.accuracy, 1.0, "{:?}", fit.metrics);
        assert!(fit.metrics.zero_shot.accuracy <= 0.5 + 1e-9);
        let p = fit.head.probabilities(&[0.1, 1.0, 0.2], &[0.5, 0.5], &[]);
        assert!(p[1] > 0.5 && p[0] < 0.5, "{p:?}");
        assert_eq!(fit.metrics.per_tag["a"].articles, 20);
        let en = &fit.metrics.per_language["en"];
        assert_eq!((en.articles, en.learned), (40, 1.0));
    }

    #[test]
    fn held_out_accuracy_is_told_per_language() {
        // The second language's articles, half on each subject, all have one vector: no head
        // can be right on more than half of them, while it stays right on the first language.
        let mut examples = toy(40);
        for e in examples.iter_mut().step_by(5) {
            e.language = "pl".into();
            e.x = vec![0.6, 0.6, 0.2];
        }
        let ids = vec!["a".to_string(), "b".to_string()];
        let fit = train(&examples, &ids, 3, None, &LearnOptions::default());
        let by = &fit.metrics.per_language;
        assert_eq!((by["en"].articles, by["pl"].articles), (32, 8));
        assert_eq!(by["en"].learned, 1.0, "{by:?}");
        assert!(by["pl"].learned <= 0.5, "{by:?}");
    }

    #[test]
    fn a_language_that_goes_with_a_tag_is_told() {
        let ids = vec!["sport".to_string(), "politics".to_string()];
        let (sport, politics): (&[usize], &[usize]) = (&[0], &[1]);
        // 20 Polish articles, half on each subject; 6 English ones, all politics.
        let mut articles: Vec<(&str, &[usize])> = (0..20)
            .map(|i| ("pl", if i % 2 == 0 { sport } else { politics }))
            .collect();
        articles.extend((0..6).map(|_| ("en", politics)));
        let skew = language_skew(&articles, &ids);
        let told: Vec<(&str, &str, usize, usize)> = skew
            .iter()
            .map(|s| (s.language.as_str(), s.tag.as_str(), s.tagged, s.articles))
            .collect();
        // English is all politics against half of the Polish: a gap of 0.5, within chance and
        // site habit.
        assert!(told.is_empty(), "{told:?}");
        // Polish all sport, English all politics: the language tells the tag.
        let more: Vec<(&str, &[usize])> = (0..20)
            .map(|_| ("pl", sport))
            .chain((0..6).map(|_| ("en", politics)))
            .collect();
        let told: Vec<(String, String, usize, usize)> = language_skew(&more, &ids)
            .into_iter()
            .map(|s| (s.language, s.tag, s.tagged, s.other_tagged))
            .collect();
        assert!(
            told.contains(&("en".into(), "politics".into(), 6, 0)),
            "{told:?}"
        );
        assert!(
            told.contains(&("pl".into(), "sport".into(), 20, 0)),
            "{told:?}"
        );
        // Too few articles in a language to tell anything: nothing said.
        let few: Vec<(&str, &[usize])> = (0..20)
            .map(|_| ("pl", sport))
            .chain((0..4).map(|_| ("en", politics)))
            .collect();
        assert!(language_skew(&few, &ids).is_empty());
    }

    /// Like `toy`, but the vectors are noise as well: only the articles' words tell the subjects
    /// apart (gram columns 0-9 for one, 10-19 for the other, a few of each an article).
    fn wordy(n: usize) -> Vec<Example> {
        (0..n)
            .map(|i| {
                let tag = i % 2;
                let wobble = (i as f32 * 0.37).sin();
                let grams = (0..3)
                    .map(|k| ((tag * 10 + (i * 7 + k * 3) % 10) as u32, 0.577))
                    .collect::<std::collections::BTreeMap<u32, f32>>()
                    .into_iter()
                    .collect();
                Example {
                    key: format!("{i:04}"),
                    x: vec![wobble, 1.0 - wobble.abs(), 0.2],
                    shares: vec![0.5, 0.5],
                    tags: vec![tag],
                    grams,
                    language: "en".into(),
                }
            })
            .collect()
    }

    fn lexicon_of(columns: usize) -> Lexicon {
        Lexicon::new(
            (0..columns).map(|c| format!("g{c:03}")).collect(),
            vec![1.0; columns],
        )
    }

    #[test]
    fn a_head_learns_from_words_where_the_vectors_cannot_tell() {
        let ids = vec!["a".to_string(), "b".to_string()];
        let lexicon = lexicon_of(20);
        let without = train(&wordy(40), &ids, 3, None, &LearnOptions::default());
        let with = train(
            &wordy(40),
            &ids,
            3,
            Some(&lexicon),
            &LearnOptions::default(),
        );
        assert!(
            without.metrics.learned.accuracy < 0.8,
            "{:?}",
            without.metrics
        );
        assert_eq!(with.metrics.learned.accuracy, 1.0, "{:?}", with.metrics);
        assert!(with.metrics.gram_penalty.is_some());
        assert_eq!(
            with.metrics.accuracy_without_grams,
            without.metrics.learned.accuracy
        );
        let head = &with.head;
        let p = head.probabilities(&[0.0, 1.0, 0.2], &[0.5, 0.5], &[(12, 0.7), (15, 0.7)]);
        assert!(p[1] > 0.5 && p[0] < 0.5, "{p:?}");
        // Where the grams do not pay, the head does without them.
        let plain = train(&toy(40), &ids, 3, Some(&lexicon), &LearnOptions::default());
        assert!(plain.head.lexical.is_none() && plain.metrics.gram_penalty.is_none());
        // Asked not to read words (`lede learn --no-grams`), it does without them even where they pay.
        let no_grams = LearnOptions {
            gram_penalties: Vec::new(),
            ..LearnOptions::default()
        };
        let vectors_only = train(&wordy(40), &ids, 3, Some(&lexicon), &no_grams);
        assert!(vectors_only.head.lexical.is_none());
        assert_eq!(vectors_only.metrics, without.metrics);
        assert_eq!(vectors_only.head, without.head);
        // Asked to read the words of English articles only (`lede learn --grams-for en`), it
        // scores an article in another language with the head trained without them.
        let english = LearnOptions {
            gram_languages: vec!["en".into()],
            ..LearnOptions::default()
        };
        let gated = train(&wordy(40), &ids, 3, Some(&lexicon), &english).head;
        assert_eq!(gated.for_language("en"), &gated);
        assert!(gated
            .lexical
            .as_ref()
            .is_some_and(|l| l.w == with.head.lexical.as_ref().unwrap().w));
        assert_eq!(gated.for_language("de").w, without.head.w);
        assert!(gated.for_language("de").lexical.is_none());
    }

    #[test]
    fn training_with_words_is_deterministic() {
        let ids = vec!["a".to_string(), "b".to_string()];
        let lexicon = lexicon_of(20);
        let a = train(
            &wordy(30),
            &ids,
            3,
            Some(&lexicon),
            &LearnOptions::default(),
        );
        let b = train(
            &wordy(30),
            &ids,
            3,
            Some(&lexicon),
            &LearnOptions::default(),
        );
        assert_eq!(a.head, b.head);
        assert_eq!(a.metrics, b.metrics);
    }

    #[test]
    fn training_is_deterministic() {
        let ids = vec!["a".to_string(), "b".to_string()];
        let a = train(&toy(30), &ids, 3, None, &LearnOptions::default());
        let b = train(&toy(30), &ids, 3, None, &LearnOptions::default());
        assert_eq!(a.head, b.head);
        assert_eq!(a.metrics, b.metrics);
    }

    #[test]
    fn platt_scaling_never_turns_the_ranking_around() {
        // Held-out logits that run backwards (higher logit, wrong): the slope stays positive.
        let rows: Vec<(f32, f32, bool)> = (0..40).map(|i| (i as f32 / 10.0, 0.0, i < 20)).collect();
        let p = fit_platt(&rows);
        let q = p.probabilities(&[4.0, 0.0]);
        assert!(p.a > 0.0 && p.margin > 0.0 && q[0] >= q[1], "{p:?} {q:?}");
    }

    #[test]
    fn platt_scaling_matches_the_observed_rate() {
        // Logit 0 is right 3 times in 4: the fitted probability at 0 should be near 0.75.
        let rows: Vec<(f32, f32, bool)> = (0..400).map(|i| (0.0, 0.0, i % 4 != 0)).collect();
        let p = fit_platt(&rows).probabilities(&[0.0])[0];
        assert!((p - 0.75).abs() < 0.02, "{p}");
    }

    #[test]
    fn platt_scaling_learns_that_a_clear_first_is_surer_than_a_close_race() {
        // One tag an article: the first subject is right when it leads by more than 1, whatever
        // its own logit.
        let rows: Vec<(f32, f32, bool)> = (0..400)
            .map(|i| {
                let lead = (i % 20) as f32 / 10.0;
                ((i % 7) as f32 / 7.0, lead, lead > 1.0)
            })
            .collect();
        let p = fit_platt(&rows);
        let clear = p.probabilities(&[0.5, -1.5])[0];
        let close = p.probabilities(&[0.5, 0.3])[0];
        assert!(clear > close + 0.3, "{p:?}: {clear} against {close}");
    }
}
