//! Per-candidate signals for the learnt keyword scorer (`models/keywords/scorer.json`, trained by
//! `scripts/train-keyword-scorer` on the dev halves of public keyphrase sets): how close the phrase's
//! in-context vector is to the article, where and how often and how widely it occurs, its length and
//! capitals, whether its last word heads phrases, how it nests with other candidates, word-ending
//! cues for verbs and adjectives in the languages lede serves first, and how common its words are in
//! general (wordfreq's lists: "issues" and "started" are everyday words, "tram line" is not),
//! whether the title names it, and how often it follows a number (a unit: "640 mln", "30 Prozent").
use super::Candidate;
use crate::model::wordfreq::FrequencyTable;
use crate::stages::z_scores;
use std::collections::HashSet;

/// Names of the signals, in the order [`signals`] computes them.
pub const FEATURES: &[&str] = &[
    "cosine",
    "cosine_z",
    "cosine_rank",
    "position_prior",
    "relative_position",
    "spread",
    "frequency",
    "log_count",
    "head_ratio",
    "one_word",
    "two_words",
    "three_words",
    "capitalised",
    "acronym",
    "digits",
    "log_chars_per_word",
    "verb_ending_last",
    "verb_ending_first",
    "adjective_ending_last",
    "in_longer_candidates",
    "shorter_candidates_inside",
    "share_inside_longer",
    "zipf_rarest",
    "zipf_commonest",
    "zipf_first",
    "zipf_last",
    "zipf_phrase",
    "has_title",
    "in_title",
    "title_share",
    "after_number",
];

/// Zipf frequency given every word of a language wordfreq has no list for: a middling word, so
/// that the other signals decide.
const NO_LIST_ZIPF: f32 = 3.0;

/// How common the phrase's words are: rarest, commonest, first, last, and the phrase as a whole
/// (wordfreq's combination, `1/f = 1/f1 + 1/f2 + ...`, so the rarest word dominates).
fn commonness(words: &[&str], table: Option<&FrequencyTable>) -> [f32; 5] {
    let Some(table) = table else {
        return [NO_LIST_ZIPF; 5];
    };
    let zipf: Vec<f32> = words.iter().map(|w| table.word_zipf(w)).collect();
    if zipf.is_empty() {
        return [0.0; 5];
    }
    let inverse: f64 = zipf.iter().map(|z| 10f64.powf(9.0 - f64::from(*z))).sum();
    [
        zipf.iter().copied().fold(f32::INFINITY, f32::min),
        zipf.iter().copied().fold(f32::NEG_INFINITY, f32::max),
        zipf[0],
        zipf[zipf.len() - 1],
        (9.0 - inverse.log10()) as f32,
    ]
}

/// Endings that mark (mostly) verb forms: past tenses, participles, infinitives, third persons.
fn verb_endings(lang: &str) -> &'static [&'static str] {
    match lang {
        "en" => &["ed", "ing"],
        "pl" => &[
            "ła", "ło", "li", "ły", "ał", "ił", "ył", "ać", "ić", "yć", "eć", "uje", "ują", "ował",
            "ano", "ono", "ęto",
        ],
        "fr" => &["er", "ait", "aient", "ent", "ons", "ez", "ir"],
        "es" => &["ar", "er", "ir", "aba", "ado", "ido", "ó"],
        _ => &[],
    }
}

/// Endings that mark (mostly) adjectives.
fn adjective_endings(lang: &str) -> &'static [&'static str] {
    match lang {
        "en" => &[
            "al", "ive", "ous", "ic", "ful", "less", "able", "ible", "ary",
        ],
        "pl" => &[
            "ny", "na", "ne", "nej", "nych", "nym", "nymi", "ego", "owy", "owa", "owe", "owej",
            "ski", "ska", "skie", "skiej", "ich", "ych",
        ],
        "fr" => &[
            "ique", "eux", "euse", "al", "ale", "aux", "ible", "able", "if", "ive",
        ],
        "de" => &["isch", "ische", "lich", "liche", "ig", "ige"],
        _ => &[],
    }
}

fn ends_with_any(word: &str, endings: &[&str]) -> bool {
    let lower = word.to_lowercase();
    // A short word is its own stem; only longer words carry an inflection worth reading.
    lower.chars().count() > 4 && endings.iter().any(|e| lower.ends_with(e))
}

/// What the signals read of the article besides its candidates.
pub struct Article<'a> {
    /// The article's vector, L2-normalised.
    pub vector: &'a [f32],
    /// Its language code.
    pub lang: &'a str,
    /// Its language's word list (`None` where wordfreq has none).
    pub frequencies: Option<&'a FrequencyTable>,
    /// The title's words ([`super::title_words`]; empty without a title).
    pub title: &'a HashSet<String>,
}

/// One row of [`FEATURES`] per candidate. `vecs[i]` is `candidates[i]`'s vector (in context),
/// L2-normalised.
pub fn signals(candidates: &[Candidate], vecs: &[Vec<f32>], article: &Article) -> Vec<Vec<f32>> {
    let Article {
        vector: doc,
        lang,
        frequencies,
        title,
    } = *article;
    let n = candidates.len().min(vecs.len());
    let cosine: Vec<f32> = (0..n)
        .map(|i| vecs[i].iter().zip(doc).map(|(a, b)| a * b).sum())
        .collect();
    let cosine_z = z_scores(&cosine);
    let length = candidates
        .iter()
        .map(|c| c.last_position + 1)
        .max()
        .unwrap_or(1)
        .max(1) as f32;
    let max_count = candidates.iter().map(|c| c.count).max().unwrap_or(1).max(1);
    let lang = crate::stages::language::base_code(lang);
    let (verbs, adjectives) = (verb_endings(&lang), adjective_endings(&lang));
    let padded: Vec<String> = candidates.iter().map(|c| format!(" {} ", c.key)).collect();
    (0..n)
        .map(|i| {
            let c = &candidates[i];
            let words: Vec<&str> = c.surface.split_whitespace().collect();
            let nw = words.len().max(1) as f32;
            let letters: Vec<char> = c.surface.chars().filter(|ch| ch.is_alphabetic()).collect();
            let chars = c
                .surface
                .chars()
                .filter(|ch| !ch.is_whitespace())
                .count()
                .max(1) as f32;
            let capitalised = words
                .iter()
                .filter(|w| w.starts_with(char::is_uppercase))
                .count() as f32
                / nw;
            let acronym = letters.len() >= 2 && letters.iter().all(|ch| ch.is_uppercase());
            let digits = c.surface.chars().filter(char::is_ascii_digit).count() as f32 / chars;
            let longer: Vec<usize> = (0..candidates.len())
                .filter(|&j| j != i && padded[j].contains(&padded[i]))
                .collect();
            let others_inside = (0..candidates.len())
                .filter(|&j| j != i && padded[i].contains(&padded[j]))
                .count();
            // Counts hold every occurrence of the words, nested ones too: a phrase whose
            // occurrences all sit inside one longer candidate ("musulmans" in "Frères musulmans")
            // is never said alone.
            let share_inside_longer = longer
                .iter()
                .map(|&j| candidates[j].count as f32 / c.count.max(1) as f32)
                .fold(0.0f32, f32::max)
                .min(1.0);
            let freq = if max_count > 1 {
                (c.count as f32).ln_1p() / (max_count as f32).ln_1p()
            } else {
                1.0
            };
            let common = commonness(&words, frequencies);
            let key_words: Vec<&str> = c.key.split(' ').collect();
            let in_title = key_words.iter().filter(|w| title.contains(**w)).count();
            let mut row = vec![
                cosine[i],
                cosine_z[i],
                cosine.iter().filter(|o| **o > cosine[i]).count() as f32 / n as f32,
                super::position_prior(c.first_position),
                c.first_position as f32 / length,
                (c.last_position - c.first_position) as f32 / length,
                freq,
                (c.count as f32).ln_1p(),
                c.head_ratio,
                f32::from(c.words == 1),
                f32::from(c.words == 2),
                f32::from(c.words >= 3),
                capitalised,
                f32::from(acronym),
                digits,
                (chars / nw).ln(),
                f32::from(words.last().is_some_and(|w| ends_with_any(w, verbs))),
                f32::from(words.first().is_some_and(|w| ends_with_any(w, verbs))),
                f32::from(words.last().is_some_and(|w| ends_with_any(w, adjectives))),
                (longer.len() as f32).ln_1p(),
                (others_inside as f32).ln_1p(),
                share_inside_longer,
            ];
            row.extend_from_slice(&common);
            row.extend_from_slice(&[
                f32::from(!title.is_empty()),
                f32::from(in_title == key_words.len()),
                in_title as f32 / key_words.len() as f32,
                c.after_number as f32 / c.count.max(1) as f32,
            ]);
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::keywords::title_words;

    fn cand(surface: &str, key: &str, first: usize, last: usize, count: usize) -> Candidate {
        Candidate {
            surface: surface.into(),
            key: key.into(),
            count,
            first_position: first,
            last_position: last,
            words: surface.split_whitespace().count(),
            head_ratio: 1.0,
            after_number: 0,
        }
    }

    #[test]
    fn one_row_per_candidate_naming_what_a_reader_sees() {
        let cands = vec![
            cand("tram line", "tram line", 0, 90, 4),
            cand("tram", "tram", 0, 95, 6),
            cand("approved", "approv", 5, 5, 1),
            cand("NATO", "nato", 40, 40, 1),
            cand("municipal", "municip", 60, 60, 1),
        ];
        let vecs = vec![
            vec![1.0, 0.0],
            vec![0.9, 0.1],
            vec![0.1, 0.9],
            vec![0.5, 0.5],
            vec![0.0, 1.0],
        ];
        let title = title_words("Council approves the new tram line", "en");
        let article = Article {
            vector: &[1.0, 0.0],
            lang: "en",
            frequencies: None,
            title: &title,
        };
        let rows = signals(&cands, &vecs, &article);
        let col = |name: &str| FEATURES.iter().position(|f| *f == name).unwrap();
        assert_eq!(rows.len(), 5);
        assert!(rows.iter().all(|r| r.len() == FEATURES.len()));
        assert_eq!(rows[0][col("cosine_rank")], 0.0);
        assert!(rows[0][col("spread")] > 0.9 && rows[2][col("spread")] == 0.0);
        assert_eq!(rows[0][col("two_words")], 1.0);
        // "tram" sits inside "tram line", and "tram line" holds "tram".
        assert!(rows[1][col("in_longer_candidates")] > 0.0);
        assert!(rows[0][col("shorter_candidates_inside")] > 0.0);
        // Four of the six "tram"s are in "tram line", which is inside nothing.
        assert_eq!(rows[1][col("share_inside_longer")], 4.0 / 6.0);
        assert_eq!(rows[0][col("share_inside_longer")], 0.0);
        assert_eq!(rows[2][col("verb_ending_last")], 1.0);
        assert_eq!(rows[3][col("acronym")], 1.0);
        assert_eq!(rows[4][col("adjective_ending_last")], 1.0);
        assert_eq!(rows[0][col("verb_ending_last")], 0.0);
        assert!(rows[0][col("frequency")] < rows[1][col("frequency")]);
        // Without a word list for the language, every commonness signal is the same middling value.
        assert_eq!(rows[0][col("zipf_rarest")], rows[2][col("zipf_rarest")]);
        // The title names the tram line (stemmed as the keys are: "approves" is "approv"); NATO is
        // not in it.
        assert!(rows.iter().all(|r| r[col("has_title")] == 1.0));
        assert_eq!(rows[0][col("in_title")], 1.0);
        assert_eq!(rows[2][col("in_title")], 1.0);
        assert_eq!(rows[3][col("in_title")], 0.0);
        assert_eq!(rows[3][col("title_share")], 0.0);
    }

    #[test]
    fn commonness_tells_everyday_words_from_names() {
        let table = FrequencyTable::from_pairs([("issues", 5.1), ("tram", 3.4), ("line", 5.6)]);
        let cands = vec![
            cand("issues", "issu", 0, 0, 1),
            cand("tram line", "tram line", 1, 2, 1),
            cand("Radschnellweg", "radschnellweg", 3, 3, 1),
        ];
        let vecs = vec![vec![1.0, 0.0]; 3];
        let article = Article {
            vector: &[1.0, 0.0],
            lang: "en",
            frequencies: Some(&table),
            title: &HashSet::new(),
        };
        let rows = signals(&cands, &vecs, &article);
        let col = |name: &str| FEATURES.iter().position(|f| *f == name).unwrap();
        assert_eq!(rows[0][col("zipf_rarest")], 5.1);
        assert_eq!(rows[1][col("zipf_rarest")], 3.4);
        assert_eq!(rows[1][col("zipf_commonest")], 5.6);
        assert_eq!(rows[1][col("zipf_first")], 3.4);
        assert_eq!(rows[1][col("zipf_last")], 5.6);
        // The phrase is rarer than its rarest word, and a word no list holds is rarest of all.
        assert!(rows[1][col("zipf_phrase")] < 3.4);
        assert_eq!(rows[2][col("zipf_rarest")], 0.0);
        // No title: nothing is in it.
        assert!(rows
            .iter()
            .all(|r| r[col("has_title")] == 0.0 && r[col("in_title")] == 0.0));
    }
}
