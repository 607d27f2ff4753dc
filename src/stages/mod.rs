//! The pipeline's stages, in the order an article meets them: language, sentences, then (from the
//! sentences' vectors) the teaser, keywords and topics. Each stage is one module with its trait.
pub mod keywords;
pub mod language;
pub mod segment;
pub mod summary;
pub mod topics;

/// Each value's z-score within its list (mean 0, population standard deviation 1, the deviation
/// floored at 0.001 so near-equal values stay near 0); all 0 for fewer than two values. The learnt
/// scorers' signals use it to say where a sentence or phrase stands within its own article.
pub(crate) fn z_scores(xs: &[f32]) -> Vec<f32> {
    if xs.len() < 2 {
        return vec![0.0; xs.len()];
    }
    let n = xs.len() as f32;
    let mean = xs.iter().sum::<f32>() / n;
    let sd = (xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n)
        .sqrt()
        .max(1e-3);
    xs.iter().map(|x| (x - mean) / sd).collect()
}
