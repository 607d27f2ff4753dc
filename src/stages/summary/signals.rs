//! Per-sentence signals of teaser candidates: position, centrality, similarity to the title, length,
//! paragraph starts, quotes, and how central the lead is. `enrich --summary-explain` writes them with
//! each summary so that learnt rankers can be trained and measured on exactly what lede computes
//! (`benches/teaser_ranker.py`; none has beaten the unsupervised ranking yet: benches/QUALITY.md).
use crate::model::embed::cosine;
use crate::stages::segment::Sentence;
use crate::stages::z_scores;

/// Names of the signals, in the order [`features`] computes them.
pub const FEATURES: &[&str] = &[
    "rank0",
    "rank1",
    "rank2",
    "rank3_5",
    "rank6_10",
    "position_prior",
    "relative_position",
    "centrality",
    "centrality_z",
    "title_similarity",
    "title_z",
    "has_title",
    "log_words",
    "paragraph_start",
    "first_paragraph",
    "quote",
    "digits",
    "question",
    "lead_centrality_z",
    "lead_title_z",
    "log_candidates",
    "similarity_to_lead",
    "centrality_rank",
];

const QUOTES: &[char] = &['"', '“', '”', '„', '«', '»', '‘', '’'];

/// The signals of each candidate sentence (`candidates` index `sentences`, in article order), one
/// row per candidate with [`FEATURES`]' columns. `title_vec` may be empty (no title).
pub fn features(
    sentences: &[Sentence],
    sentence_vecs: &[Vec<f32>],
    title_vec: &[f32],
    candidates: &[usize],
) -> Vec<Vec<f32>> {
    let n = candidates.len();
    if n == 0 {
        return Vec::new();
    }
    let dim = sentence_vecs.first().map(|v| v.len()).unwrap_or(0);
    let mut centroid = vec![0f32; dim];
    for &i in candidates {
        for (c, x) in centroid.iter_mut().zip(&sentence_vecs[i]) {
            *c += x;
        }
    }
    let has_title = !title_vec.is_empty() && title_vec.iter().any(|x| *x != 0.0);
    let centrality: Vec<f32> = candidates
        .iter()
        .map(|&i| cosine(&sentence_vecs[i], &centroid))
        .collect();
    let title: Vec<f32> = candidates
        .iter()
        .map(|&i| {
            if has_title {
                cosine(&sentence_vecs[i], title_vec)
            } else {
                0.0
            }
        })
        .collect();
    let centrality_z = z_scores(&centrality);
    let title_z = z_scores(&title);
    // How many candidates are more central: 0 for the most central sentence.
    let centrality_rank: Vec<f32> = centrality
        .iter()
        .map(|c| centrality.iter().filter(|o| *o > c).count() as f32 / n as f32)
        .collect();
    let lead = &sentence_vecs[candidates[0]];
    let first_paragraph = sentences[candidates[0]].paragraph;
    candidates
        .iter()
        .enumerate()
        .map(|(rank, &i)| {
            let s = &sentences[i];
            let text = s.text.trim();
            let words = text.split_whitespace().count().max(1) as f32;
            let chars = text.chars().count().max(1) as f32;
            let digits = text.chars().filter(|c| c.is_ascii_digit()).count() as f32 / chars;
            let paragraph_start = i == 0 || sentences[i - 1].paragraph != s.paragraph;
            let r = rank as f32;
            vec![
                f32::from(rank == 0),
                f32::from(rank == 1),
                f32::from(rank == 2),
                f32::from((3..=5).contains(&rank)),
                f32::from((6..=10).contains(&rank)),
                1.0 / (1.0 + r / 2.0),
                if n > 1 { r / (n - 1) as f32 } else { 0.0 },
                centrality[rank],
                centrality_z[rank],
                title[rank],
                title_z[rank],
                f32::from(has_title),
                words.ln(),
                f32::from(paragraph_start),
                f32::from(s.paragraph == first_paragraph),
                f32::from(text.contains(QUOTES)),
                digits,
                f32::from(text.ends_with('?')),
                centrality_z[0],
                title_z[0],
                (n as f32).ln(),
                cosine(&sentence_vecs[i], lead),
                centrality_rank[rank],
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(text: &str, paragraph: usize) -> Sentence {
        Sentence {
            text: text.into(),
            start: 0,
            end: text.len(),
            paragraph,
        }
    }

    #[test]
    fn one_row_per_candidate_with_every_signal_named() {
        let s = vec![
            sent("The council approved the new tram line on Monday.", 0),
            sent("Heading without a stop", 0),
            sent("\"It will cut the commute by half,\" the mayor said.", 1),
            sent("Is it worth the money?", 1),
        ];
        let v = vec![
            vec![1.0, 0.0],
            vec![0.0, 1.0],
            vec![0.8, 0.6],
            vec![0.6, 0.8],
        ];
        let rows = features(&s, &v, &[1.0, 0.0], &[0, 2, 3]);
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.len() == FEATURES.len()));
        let col = |name: &str| FEATURES.iter().position(|f| *f == name).unwrap();
        // Ranks count candidates, not sentences: the heading does not push the quote down.
        assert_eq!(rows[1][col("rank1")], 1.0);
        assert_eq!(rows[0][col("position_prior")], 1.0);
        assert_eq!(rows[1][col("quote")], 1.0);
        assert_eq!(rows[2][col("question")], 1.0);
        assert_eq!(rows[1][col("paragraph_start")], 1.0);
        assert_eq!(rows[1][col("first_paragraph")], 0.0);
        // The lead is the sentence most like the title, and every row knows how central the lead is.
        assert!(rows[0][col("title_z")] > 0.0);
        assert!(rows
            .iter()
            .all(|r| r[col("lead_centrality_z")] == rows[0][col("centrality_z")]));
        let z: f32 = rows.iter().map(|r| r[col("centrality_z")]).sum();
        assert!(z.abs() < 1e-4);
        assert!(features(&s, &v, &[], &[]).is_empty());
    }
}
