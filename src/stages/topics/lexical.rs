//! The surface of an article's words for a learnt head: character 4-grams inside words, weighted by
//! TF-IDF over the tagged articles. A small embedder places "ÖVP", "Sejm" or a club's name only
//! roughly; a site's own tagged archive says which desk they belong to, and the 4-grams carry
//! them (and their inflected forms) into the head beside the article vector.
use std::collections::HashMap;

/// Characters per gram; a word shorter than this (with its two padding spaces) is one gram.
pub const GRAM: usize = 4;

/// At most this many grams are kept (the most frequent across the tagged articles): bounds the
/// model folder (labels × this many weights) whatever the archive's size.
pub const MAX_GRAMS: usize = 1 << 16;

/// Each gram of the article's text parts (title, body) with its count: each part lower-cased,
/// split into words at anything not a letter or digit, each word padded with a space on both
/// sides and cut into overlapping grams of [`GRAM`] characters. Words never span two parts, so
/// the parts give the grams of their text joined by a line break, without building it.
pub fn gram_counts(parts: &[&str]) -> HashMap<String, u32> {
    let mut counts: HashMap<String, u32> = HashMap::new();
    for part in parts {
        add_grams(&mut counts, part);
    }
    counts
}

fn add_grams(counts: &mut HashMap<String, u32>, text: &str) {
    let lower = text.to_lowercase();
    for word in lower.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        let padded: Vec<char> = std::iter::once(' ')
            .chain(word.chars())
            .chain(std::iter::once(' '))
            .collect();
        if padded.len() <= GRAM {
            *counts.entry(padded.iter().collect()).or_default() += 1;
            continue;
        }
        for w in padded.windows(GRAM) {
            *counts.entry(w.iter().collect()).or_default() += 1;
        }
    }
}

/// Grams interned while the tagged articles are read, with their document frequencies: each
/// article is kept as (gram id, count) pairs until the lexicon is chosen.
#[derive(Debug, Default)]
pub struct GramTable {
    ids: HashMap<String, u32>,
    grams: Vec<String>,
    df: Vec<u32>,
    docs: u32,
}

impl GramTable {
    /// Interns the grams of one article's text parts; its (gram id, count) pairs, by id.
    pub fn add(&mut self, parts: &[&str]) -> Vec<(u32, u32)> {
        self.docs += 1;
        let mut out: Vec<(u32, u32)> = gram_counts(parts)
            .into_iter()
            .map(|(g, c)| {
                let id = match self.ids.get(&g) {
                    Some(&id) => id,
                    None => {
                        let id = self.grams.len() as u32;
                        self.ids.insert(g.clone(), id);
                        self.grams.push(g);
                        self.df.push(0);
                        id
                    }
                };
                self.df[id as usize] += 1;
                (id, c)
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// The lexicon of the [`MAX_GRAMS`] grams found in most articles (ties: the gram that sorts
    /// first), and each interned id's column in it (`None` when left out).
    pub fn lexicon(&self) -> (Lexicon, Vec<Option<u32>>) {
        let mut order: Vec<u32> = (0..self.grams.len() as u32).collect();
        order.sort_by(|&a, &b| {
            self.df[b as usize]
                .cmp(&self.df[a as usize])
                .then_with(|| self.grams[a as usize].cmp(&self.grams[b as usize]))
        });
        order.truncate(MAX_GRAMS);
        order.sort_by(|&a, &b| self.grams[a as usize].cmp(&self.grams[b as usize]));
        let n = self.docs as f32;
        let mut column = vec![None; self.grams.len()];
        for (c, &id) in order.iter().enumerate() {
            column[id as usize] = Some(c as u32);
        }
        let grams = order
            .iter()
            .map(|&id| self.grams[id as usize].clone())
            .collect();
        let idf = order
            .iter()
            .map(|&id| ((1.0 + n) / (1.0 + self.df[id as usize] as f32)).ln() + 1.0)
            .collect();
        (Lexicon::new(grams, idf), column)
    }
}

/// The grams a head reads and their inverse document frequencies, fixed at training time.
#[derive(Debug, Clone, PartialEq)]
pub struct Lexicon {
    /// Gram -> column.
    index: HashMap<String, u32>,
    /// The grams, by column (sorted).
    pub grams: Vec<String>,
    /// `ln((1 + n) / (1 + df)) + 1` per column.
    pub idf: Vec<f32>,
}

impl Lexicon {
    /// A lexicon read back from a model folder.
    pub fn new(grams: Vec<String>, idf: Vec<f32>) -> Lexicon {
        let index = grams
            .iter()
            .enumerate()
            .map(|(i, g)| (g.clone(), i as u32))
            .collect();
        Lexicon { index, grams, idf }
    }

    /// Columns.
    pub fn len(&self) -> usize {
        self.grams.len()
    }

    /// Whether it holds no gram.
    pub fn is_empty(&self) -> bool {
        self.grams.is_empty()
    }

    /// The features of an article's text parts (`features_of` their `gram_counts`).
    pub fn features(&self, parts: &[&str]) -> Vec<(u32, f32)> {
        self.features_of(
            gram_counts(parts)
                .iter()
                .filter_map(|(g, &c)| Some((*self.index.get(g)?, c))),
        )
    }

    /// Features from (column, count) pairs: (column, weight) by column, weight
    /// `(1 + ln count) × idf`, L2-normalised.
    pub fn features_of(&self, counts: impl Iterator<Item = (u32, u32)>) -> Vec<(u32, f32)> {
        let mut f: Vec<(u32, f32)> = counts
            .map(|(i, c)| (i, (1.0 + (c as f32).ln()) * self.idf[i as usize]))
            .collect();
        f.sort_by_key(|&(i, _)| i);
        let norm = f.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, v) in &mut f {
                *v /= norm;
            }
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grams_are_cut_inside_words_and_fold_case() {
        let c = gram_counts(&["Sejm, sejmu! ÖVP 7"]);
        assert_eq!(c[" sej"], 2);
        assert_eq!(c["ejm "], 1);
        assert_eq!(c[" övp"], 1);
        assert_eq!(c[" 7 "], 1);
        assert!(!c.keys().any(|g| g.contains(',')));
        // Title and body as parts read as their text joined by a line break.
        assert_eq!(
            gram_counts(&["Sejm", "Ustawa sejmu"]),
            gram_counts(&["Sejm\nUstawa sejmu"])
        );
    }

    #[test]
    fn common_grams_weigh_less_and_features_are_unit_length() {
        let mut table = GramTable::default();
        for t in ["the sejm votes", "the match", "the film"] {
            table.add(&[t]);
        }
        let (lex, _) = table.lexicon();
        let f = lex.features(&["the sejm votes"]);
        let weight = |g: &str| {
            let i = lex.grams.iter().position(|x| x == g).unwrap() as u32;
            f.iter().find(|(j, _)| *j == i).unwrap().1
        };
        assert!(weight(" the") < weight(" sej"));
        let norm: f32 = f.iter().map(|(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(lex.features(&["nothing known here"]).is_empty());
    }

    #[test]
    fn features_from_interned_grams_are_the_features_of_the_text() {
        let texts = [
            "Rada miasta przyjęła plan.",
            "Nowa linia tramwajowa, plan miasta",
        ];
        let mut table = GramTable::default();
        let interned: Vec<_> = texts.iter().map(|t| table.add(&[t])).collect();
        let (lex, column) = table.lexicon();
        for (t, ids) in texts.iter().zip(&interned) {
            let from_ids = lex.features_of(
                ids.iter()
                    .filter_map(|&(id, c)| Some((column[id as usize]?, c))),
            );
            assert_eq!(from_ids, lex.features(&[t]));
        }
    }
}
