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
use super::head::{margins, HeadWeights, Platt, SHARE_FLOOR};
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
    /// Probability at or above which a subject counts as given (per-tag F1 in the report).
    pub threshold: f32,
}

impl Default for LearnOptions {
    fn default() -> Self {
        LearnOptions {
            folds: 5,
            epochs: 200,
            learning_rate: 0.05,
            penalties: vec![1e-3, 1e-2, 1e-1, 1.0],
            threshold: super::DEFAULT_THRESHOLD,
        }
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
    /// The learnt head on held-out folds.
    pub learned: Scores,
    /// The zero-shot method on the same folds.
    pub zero_shot: Scores,
    /// Per tag (learnt head), by label id.
    pub per_tag: BTreeMap<String, TagScores>,
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

/// Weights (w, b, prior) fitted on `train` with penalty `l2`; Platt left at identity.
fn fit_weights(
    train: &[&Example],
    labels: usize,
    dim: usize,
    l2: f64,
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
    let mut opt = nn::Adam::default()
        .build(&vs, options.learning_rate)
        .expect("Adam over a fresh VarStore");
    for _ in 0..options.epochs {
        let weights = &w + &centroids * &proto;
        let logits = &t.prior * &prior + t.x.matmul(&weights) + &b;
        // Summed over subjects, averaged over articles. The penalty holds back the free weights,
        // not the centroid term: one shared weight on "how near the label's own articles", which
        // a handful of examples can already fit.
        let loss =
            logits.binary_cross_entropy_with_logits::<Tensor>(&t.y, None, None, Reduction::Mean)
                * labels as f64
                + w.pow_tensor_scalar(2).sum(Kind::Float) * l2;
        opt.backward_step(&loss);
    }
    let weights = tch::no_grad(|| &w + &centroids * &proto);
    // Stored label-major: each subject's row of weights (the centroid term folded in).
    HeadWeights {
        dim,
        w: to_vec(&weights.transpose(0, 1).contiguous()),
        b: to_vec(&b),
        prior: to_vec(&prior)[0],
        platt: Platt::new(1.0, 0.0),
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
    k: usize,
    labels: usize,
    dim: usize,
    l2: f64,
    options: &LearnOptions,
) -> Vec<Vec<f32>> {
    let mut out = vec![Vec::new(); examples.len()];
    for f in 0..k {
        let train: Vec<&Example> = examples
            .iter()
            .zip(fold)
            .filter(|(_, &g)| g != f)
            .map(|(e, _)| e)
            .collect();
        let head = fit_weights(&train, labels, dim, l2, options);
        for (i, e) in examples.iter().enumerate() {
            if fold[i] == f {
                out[i] = head.logits(&e.x, &e.shares);
            }
        }
    }
    out
}

/// One (logit, margin, applies) row for every subject of every example.
fn calibration_rows(examples: &[Example], logits: &[Vec<f32>]) -> Vec<(f32, f32, bool)> {
    examples
        .iter()
        .zip(logits)
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

/// Trains a head over `ids.len()` subjects on `examples` (vectors of length `dim`): chooses the
/// penalty by cross-validated accuracy, calibrates on the held-out logits, reports the
/// held-out figures beside the zero-shot method's, and fits the final weights on every example.
pub fn train(examples: &[Example], ids: &[String], dim: usize, options: &LearnOptions) -> Fit {
    single_threaded(|| {
        let labels = ids.len();
        let k = options.folds.clamp(2, examples.len().max(2));
        let fold = folds(examples, k);
        // The unlearnt method on the same folds: the zero-shot evidence, calibrated.
        let zero: Vec<Vec<f32>> = examples
            .iter()
            .map(|e| e.shares.iter().map(|s| (s + SHARE_FLOOR).ln()).collect())
            .collect();
        let zero_platt = fit_platt(&calibration_rows(examples, &zero));
        let zero_probs: Vec<Vec<f32>> = zero.iter().map(|z| zero_platt.probabilities(z)).collect();
        let mut best: Option<(f64, f64, Vec<Vec<f32>>)> = None;
        for &l2 in &options.penalties {
            let logits = out_of_fold(examples, &fold, k, labels, dim, l2, options);
            let right = examples
                .iter()
                .zip(&logits)
                .filter(|(e, z)| e.tags.contains(&argmax(z)))
                .count() as f64;
            // Ties go to the stronger penalty: the simpler head.
            if best.as_ref().is_none_or(|b| right >= b.0) {
                best = Some((right, l2, logits));
            }
        }
        let (_, l2, logits) = best.expect("at least one penalty");
        let platt = fit_platt(&calibration_rows(examples, &logits));
        let probs: Vec<Vec<f32>> = logits.iter().map(|z| platt.probabilities(z)).collect();
        let all: Vec<&Example> = examples.iter().collect();
        let mut head = fit_weights(&all, labels, dim, l2, options);
        head.platt = platt;
        Fit {
            head,
            metrics: Metrics {
                articles: examples.len(),
                folds: k,
                penalty: l2,
                learned: score(examples, &probs, options.threshold),
                zero_shot: score(examples, &zero_probs, options.threshold),
                per_tag: per_tag(examples, &probs, ids, options.threshold),
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
                }
            })
            .collect()
    }

    #[test]
    fn a_head_learns_what_the_zero_shot_evidence_cannot_tell() {
        let ids = vec!["a".to_string(), "b".to_string()];
        let fit = train(&toy(40), &ids, 3, &LearnOptions::default());
        assert_eq!(fit.metrics.learned.accuracy, 1.0, "{:?}", fit.metrics);
        assert!(fit.metrics.zero_shot.accuracy <= 0.5 + 1e-9);
        let p = fit.head.probabilities(&[0.1, 1.0, 0.2], &[0.5, 0.5]);
        assert!(p[1] > 0.5 && p[0] < 0.5, "{p:?}");
        assert_eq!(fit.metrics.per_tag["a"].articles, 20);
    }

    #[test]
    fn training_is_deterministic() {
        let ids = vec!["a".to_string(), "b".to_string()];
        let a = train(&toy(30), &ids, 3, &LearnOptions::default());
        let b = train(&toy(30), &ids, 3, &LearnOptions::default());
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
