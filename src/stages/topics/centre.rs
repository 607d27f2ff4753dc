//! Language centres: each language's mean article vector in an embedder's space, taken off an
//! article's vector before a trained head reads it.
//!
//! A multilingual embedder places a German article and its English translation near each other,
//! but not at one point: every language sits a little apart (the four centres below are 0.26-0.32
//! apart; two top-level subjects' example articles in one language, 0.33-0.49). A head trained
//! where the languages' articles cover different subjects learns the language for the subject:
//! the only German training news of the shipped IPTC head is MLSUM's, mostly politics, and German
//! business news went to politics. Centring each article on its language's centre takes the
//! language out of the vector and leaves the subject (benches/QUALITY.md: the shipped head rose on
//! all four topic sets, English ones too, as the common part of every vector goes with it).
//!
//! The centres come from texts that say the same things in every language: the example sentences
//! written for each IPTC subject in models/iptc/subjects.jsonl (every top-level and second-level
//! subject, in en, de, fr, pl), so no subject mix leans any centre. An article in a language
//! without one is centred on the mean of them.
use super::anchor::subjects;
use super::normalize;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where the centres were measured (kept in the file, for the reader).
pub const SOURCE: &str = "mean article vector of the example sentences written for each IPTC \
                          subject (models/iptc/subjects.jsonl), per language";

/// Each language's centre in one embedder's space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageCentres {
    /// [`SOURCE`].
    pub source: String,
    /// A centre per language code.
    pub languages: BTreeMap<String, Vec<f32>>,
    /// The centre of an article in any other language: the mean of `languages`.
    pub other: Vec<f32>,
}

impl LanguageCentres {
    /// The texts the centres are measured on: every example sentence of
    /// models/iptc/subjects.jsonl, in file order (`from_vectors` reads their vectors back).
    pub fn texts() -> Vec<String> {
        subjects().into_iter().flat_map(|r| r.examples).collect()
    }

    /// The centres from an embedder's vectors of [`texts`](Self::texts), in their order (as
    /// queries): each subject's example sentences in one language make an article, its vector the
    /// normalised mean of theirs (as an article's is); a language's centre is the mean of its
    /// articles' vectors.
    pub fn from_vectors(vecs: &[Vec<f32>], dim: usize) -> LanguageCentres {
        let rows = subjects();
        let mut sums: BTreeMap<String, (Vec<f64>, usize)> = BTreeMap::new();
        let mut at = 0;
        for r in &rows {
            let mut article = vec![0f32; dim];
            for v in &vecs[at..at + r.examples.len()] {
                article.iter_mut().zip(v).for_each(|(a, x)| *a += x);
            }
            at += r.examples.len();
            normalize(&mut article);
            let (sum, n) = sums
                .entry(r.lang.clone())
                .or_insert_with(|| (vec![0.0; dim], 0));
            sum.iter_mut()
                .zip(&article)
                .for_each(|(s, x)| *s += *x as f64);
            *n += 1;
        }
        let languages: BTreeMap<String, Vec<f32>> = sums
            .into_iter()
            .map(|(l, (sum, n))| (l, sum.iter().map(|s| (s / n as f64) as f32).collect()))
            .collect();
        let mut other = vec![0f64; dim];
        for c in languages.values() {
            other.iter_mut().zip(c).for_each(|(o, x)| *o += *x as f64);
        }
        let other = other
            .iter()
            .map(|o| (o / languages.len().max(1) as f64) as f32)
            .collect();
        LanguageCentres {
            source: SOURCE.into(),
            languages,
            other,
        }
    }

    /// The centre an article in `language` is taken from.
    pub fn of(&self, language: &str) -> &[f32] {
        self.languages.get(language).unwrap_or(&self.other)
    }

    /// `x` less its language's centre, normalised again (a head reads unit vectors).
    pub fn centre(&self, x: &[f32], language: &str) -> Vec<f32> {
        let mut v: Vec<f32> = x
            .iter()
            .zip(self.of(language))
            .map(|(a, c)| a - c)
            .collect();
        normalize(&mut v);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centres() -> LanguageCentres {
        LanguageCentres {
            source: SOURCE.into(),
            languages: BTreeMap::from([
                ("de".to_string(), vec![0.0, 0.5]),
                ("en".to_string(), vec![0.5, 0.0]),
            ]),
            other: vec![0.25, 0.25],
        }
    }

    #[test]
    fn the_same_subject_in_two_languages_meets_once_each_is_centred() {
        // One subject, written in English and in German: the vectors differ by the languages'
        // offset only, and centring takes it away.
        let c = centres();
        let en = [0.5f32, 0.8];
        let de = [0.0f32, 1.3];
        assert_eq!(c.centre(&en, "en"), c.centre(&de, "de"));
        assert_ne!(en.to_vec(), de.to_vec());
    }

    #[test]
    fn a_language_without_a_centre_is_taken_from_the_mean_of_them() {
        let c = centres();
        assert_eq!(c.of("cs"), &[0.25, 0.25]);
        let v = c.centre(&[1.25, 0.25], "cs");
        assert!((v[0] - 1.0).abs() < 1e-6 && v[1].abs() < 1e-6);
    }
}
