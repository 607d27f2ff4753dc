//! Extractive teaser: rank sentences by how well they represent the article (similarity to the
//! article's centroid and to its title) with a position prior (news leads matter), pick with MMR so the
//! teaser does not repeat itself, and emit the picks in article order. Boilerplate (bylines, captions,
//! "read more", headings) is never picked.
use super::signals;
use super::Summary;
use crate::model::embed::cosine;
use crate::stages::segment::Sentence;
use serde::Serialize;

/// Options of the extractive teaser.
#[derive(Debug, Clone, Serialize)]
pub struct ExtractiveOptions {
    /// Most sentences in the summary.
    pub max_sentences: usize,
    /// Most characters; a sentence is never cut, so the first pick may exceed it alone.
    pub max_chars: usize,
    /// Weight of the similarity to the article centroid.
    pub centrality_weight: f32,
    /// Weight of the similarity to the title.
    pub title_weight: f32,
    /// Weight of the position prior `1 / (1 + i / position_scale)`.
    pub position_weight: f32,
    /// Candidate sentences into the article at which the position prior has halved.
    pub position_scale: f32,
    /// MMR trade-off: 1.0 pure relevance, lower penalises redundancy with sentences already picked.
    pub mmr_lambda: f32,
    /// A candidate this similar to a sentence already picked is a repeat (pages often print the lead
    /// twice), never a second teaser sentence.
    pub max_redundancy: f32,
    /// Adds each candidate's signals to the summary (`explain`), for training and measuring learnt
    /// rankers (benches/teaser_ranker.py).
    #[serde(skip)]
    pub explain: bool,
}

impl Default for ExtractiveOptions {
    fn default() -> Self {
        ExtractiveOptions {
            max_sentences: 2,
            max_chars: 320,
            centrality_weight: 1.0,
            title_weight: 0.5,
            position_weight: 0.3,
            position_scale: 2.0,
            mmr_lambda: 0.7,
            max_redundancy: 0.95,
            explain: false,
        }
    }
}

/// Words that mark a sentence as page furniture rather than article text, in the languages we cover.
const BOILERPLATE_MARKERS: &[&str] = &[
    "read more",
    "czytaj więcej",
    "czytaj też",
    "czytaj także",
    "zobacz też",
    "zobacz także",
    "weiterlesen",
    "lesen sie auch",
    "lire aussi",
    "lire la suite",
    "leer más",
    "lee también",
    "читайте также",
    "подробнее",
    "photo:",
    "fot.",
    "foto:",
    "zdjęcie:",
    "source:",
    "źródło:",
    "quelle:",
    "©",
    "all rights reserved",
    "wszelkie prawa zastrzeżone",
    "subscribe",
    "newsletter",
    "follow us",
    "share this",
    "udostępnij",
    "click here",
    "kliknij",
    "advertisement",
    "reklama",
    "cookie",
];

/// A sentence a teaser may use: real prose (final punctuation, enough words), not page furniture.
pub fn is_teaser_candidate(s: &Sentence) -> bool {
    let text = s.text.trim();
    let words = text.split_whitespace().count();
    if words < 5 || text.chars().count() < 25 {
        return false;
    }
    // Headings, bylines and list labels have no final punctuation.
    let last = text
        .trim_end_matches(|c: char| "\"'”’»)]".contains(c))
        .chars()
        .last();
    if !matches!(last, Some('.' | '!' | '?' | '…' | '。' | '！' | '？' | ':')) {
        return false;
    }
    if text.ends_with(':') {
        return false;
    }
    let lower = text.to_lowercase();
    if BOILERPLATE_MARKERS.iter().any(|m| lower.contains(m)) {
        return false;
    }
    // Mostly links, handles or numbers: not prose.
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    letters * 2 >= text.chars().count() && !lower.contains("http://") && !lower.contains("https://")
}

/// Picks the teaser. `sentence_vecs[i]` embeds `sentences[i]`; `title_vec` may be empty (no title).
pub fn summarize(
    sentences: &[Sentence],
    sentence_vecs: &[Vec<f32>],
    title_vec: &[f32],
    options: &ExtractiveOptions,
    model: &str,
) -> Summary {
    if sentences.is_empty() {
        return Summary::none("the body has no text");
    }
    let mut candidates: Vec<usize> = (0..sentences.len())
        .filter(|&i| is_teaser_candidate(&sentences[i]))
        .collect();
    if candidates.is_empty() {
        // A body of one short sentence (or only headings): that text is the best summary there is.
        candidates = (0..sentences.len())
            .filter(|&i| sentences[i].text.chars().count() > 1)
            .collect();
        if candidates.is_empty() {
            return Summary::none("the body has no sentence to summarise");
        }
    }
    let dim = sentence_vecs.first().map(|v| v.len()).unwrap_or(0);
    // Centroid of the prose sentences: what the article is about, without its furniture.
    let mut centroid = vec![0f32; dim];
    for &i in &candidates {
        for (c, x) in centroid.iter_mut().zip(&sentence_vecs[i]) {
            *c += x;
        }
    }
    let has_title = !title_vec.is_empty() && title_vec.iter().any(|x| *x != 0.0);
    // Position among candidates, so a byline or heading before the lead does not push the lead down.
    let relevance: Vec<f32> = candidates
        .iter()
        .enumerate()
        .map(|(rank, &i)| {
            let v = &sentence_vecs[i];
            let mut score = options.centrality_weight * cosine(v, &centroid);
            if has_title {
                score += options.title_weight * cosine(v, title_vec);
            }
            score + options.position_weight / (1.0 + rank as f32 / options.position_scale)
        })
        .collect();

    let mut picked: Vec<usize> = Vec::new(); // indices into `candidates`
    let mut chars = 0usize;
    while picked.len() < options.max_sentences.max(1) {
        let mut best: Option<(usize, f32)> = None;
        for c in 0..candidates.len() {
            if picked.contains(&c) {
                continue;
            }
            let len = sentences[candidates[c]].text.chars().count();
            if !picked.is_empty() && chars + 1 + len > options.max_chars {
                continue;
            }
            let redundancy = picked
                .iter()
                .map(|&p| cosine(&sentence_vecs[candidates[c]], &sentence_vecs[candidates[p]]))
                .fold(0f32, f32::max);
            if redundancy > options.max_redundancy {
                continue;
            }
            let mmr = options.mmr_lambda * relevance[c] - (1.0 - options.mmr_lambda) * redundancy;
            // Ties go to the earlier sentence, so the result never depends on float noise in order.
            if best.is_none_or(|(_, b)| mmr > b) {
                best = Some((c, mmr));
            }
        }
        let Some((c, _)) = best else { break };
        chars += sentences[candidates[c]].text.chars().count() + usize::from(!picked.is_empty());
        picked.push(c);
    }
    let mut chosen: Vec<usize> = picked.iter().map(|&c| candidates[c]).collect();
    chosen.sort_unstable();
    let text = chosen
        .iter()
        .map(|&i| sentences[i].text.trim())
        .collect::<Vec<_>>()
        .join(" ");
    let explain = options.explain.then(|| {
        let cosines: Vec<Vec<f32>> = candidates
            .iter()
            .map(|&i| {
                candidates
                    .iter()
                    .map(|&j| (cosine(&sentence_vecs[i], &sentence_vecs[j]) * 1e4).round() / 1e4)
                    .collect()
            })
            .collect();
        serde_json::json!({
            "candidates": candidates,
            "features": signals::FEATURES,
            "signals": signals::features(sentences, sentence_vecs, title_vec, &candidates),
            "cosines": cosines,
            "vectors": candidates
                .iter()
                .map(|&i| sentence_vecs[i].iter().map(|x| (x * 1e4).round() / 1e4).collect::<Vec<f32>>())
                .collect::<Vec<_>>(),
        })
    });
    Summary {
        text: Some(text),
        method: "extractive".into(),
        model: Some(model.to_string()),
        sentences: Some(chosen),
        reason: None,
        warnings: Vec::new(),
        explain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(text: &str) -> Sentence {
        Sentence {
            text: text.into(),
            start: 0,
            end: text.len(),
            paragraph: 0,
        }
    }

    #[test]
    fn furniture_is_not_a_candidate() {
        assert!(!is_teaser_candidate(&sent("Instytut Boyma 15.12.2023")));
        assert!(!is_teaser_candidate(&sent("The birth of Quad")));
        assert!(!is_teaser_candidate(&sent(
            "Czytaj więcej: jak działa nowy system opłat w mieście."
        )));
        assert!(!is_teaser_candidate(&sent(
            "Photo: Reuters / John Smith, taken in Warsaw on Monday."
        )));
        assert!(is_teaser_candidate(&sent(
            "The Russian invasion of Ukraine has reinvigorated NATO."
        )));
        assert!(is_teaser_candidate(&sent(
            "„To największa inwestycja od dwudziestu lat” – powiedział."
        )));
    }

    #[test]
    fn picks_in_article_order_within_limits_and_skips_duplicates() {
        let s = vec![
            sent("Alpha beta gamma delta epsilon one."),
            sent("Alpha beta gamma delta epsilon two."),
            sent("Completely different words are written here now."),
        ];
        // The first two are near duplicates; MMR must not pick both.
        let v = vec![vec![1.0, 0.0], vec![0.999, 0.04], vec![0.6, 0.8]];
        let opts = ExtractiveOptions {
            max_sentences: 2,
            max_chars: 1000,
            ..Default::default()
        };
        let sum = summarize(&s, &v, &[], &opts, "m");
        assert_eq!(sum.sentences, Some(vec![0, 2]));
        assert_eq!(sum.text.as_deref(), Some("Alpha beta gamma delta epsilon one. Completely different words are written here now."));
        // A character budget below two sentences keeps one whole sentence, never a cut one.
        let opts = ExtractiveOptions {
            max_sentences: 3,
            max_chars: 40,
            ..Default::default()
        };
        assert_eq!(
            summarize(&s, &v, &[], &opts, "m").sentences.unwrap().len(),
            1
        );
    }

    #[test]
    fn one_sentence_body_is_its_own_summary_and_empty_has_a_reason() {
        let s = vec![sent("Short note.")];
        let sum = summarize(&s, &[vec![1.0]], &[], &ExtractiveOptions::default(), "m");
        assert_eq!(sum.text.as_deref(), Some("Short note."));
        let none = summarize(&[], &[], &[], &ExtractiveOptions::default(), "m");
        assert_eq!(none.method, "none");
        assert!(none.reason.is_some() && none.text.is_none());
    }
}
