//! Anchoring a site's bare tag names to IPTC Media Topics. A label known only by its name
//! ("Sport", "Biznes", "Wirtschaft") gives the embedder one word to match whole articles against;
//! the same subject described ("matches, leagues, players, transfers...") matches far better
//! (benches/QUALITY.md, "A site's own wording"). When such a name sits close to the name of an IPTC
//! subject in the vocabulary's language (one of those lede describes subjects in), the label borrows
//! the description written for that subject's top-level subject (models/iptc/subjects.jsonl), in
//! that language. Only the label's vector changes: its id, name and the vocabulary's hash stay the
//! site's own.
//!
//! Names that match no subject closely ("Polska", "Inland", "Etat": desks, not subjects) stay as
//! they are, and so do two labels that would borrow the same description (it would no longer tell
//! them apart).
use super::Taxonomy;
use crate::model::embed::cosine;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// Descriptions and example sentences of every IPTC top-level and second-level subject in the
/// languages lede serves first, written for lede (models/iptc/README.md).
pub const SUBJECTS_JSONL: &str = include_str!("../../../models/iptc/subjects.jsonl");

/// The languages of `SUBJECTS_JSONL`: a name is matched against IPTC's names in these.
pub const LANGUAGES: [&str; 4] = ["en", "de", "fr", "pl"];

/// How near (cosine of e5 query vectors) a label's name must be to an IPTC subject's name to
/// borrow its description. Measured on the bare names and short phrases of
/// benches/eval_topic_wordings.py: "Sport"/"Biznes"/"Kultur" match their subject at 0.92-1.0,
/// desk names ("Polska", "Świat", "Inland", "World") at 0.86-0.90, to unrelated subjects.
pub const MIN_COSINE: f32 = 0.91;

/// One IPTC name a label can match: a subject of the top two levels, in one language.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The IPTC name, in `lang`.
    pub name: String,
    /// Its language (one of `LANGUAGES`).
    pub lang: &'static str,
    /// The top-level subject it belongs to (itself, or its parent).
    pub top: String,
}

/// Every IPTC name of the top two levels in `language` where it is one of `LANGUAGES`, else in all
/// of them; in vocabulary order. A name is matched in its vocabulary's language: across languages
/// a desk's name meets a false friend (the Austrian "Etat", a media desk, sits at 0.925 from the
/// French "Coup d'Etat", under conflict, war and peace).
pub fn candidates(language: &str) -> Vec<Candidate> {
    let iptc = Taxonomy::iptc(2);
    let langs: Vec<&'static str> = match LANGUAGES.iter().find(|l| **l == language) {
        Some(l) => vec![*l],
        None => LANGUAGES.to_vec(),
    };
    let mut out = Vec::new();
    for l in &iptc.labels {
        for &lang in &langs {
            if let Some(name) = l.translations.get(lang).filter(|n| !n.trim().is_empty()) {
                out.push(Candidate {
                    name: name.clone(),
                    lang,
                    top: l.path[0].clone(),
                });
            }
        }
    }
    out
}

/// One subject in one language as `SUBJECTS_JSONL` writes it.
#[derive(Debug, Clone, Deserialize)]
pub struct Subject {
    /// The IPTC id (`medtop:...`).
    pub id: String,
    /// One of `LANGUAGES`.
    pub lang: String,
    /// What news on the subject covers.
    pub description: String,
    /// Invented example first sentences.
    pub examples: Vec<String>,
}

/// Every row of `SUBJECTS_JSONL`, in file order.
pub fn subjects() -> Vec<Subject> {
    SUBJECTS_JSONL
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("shipped subject descriptions parse"))
        .collect()
}

/// The description written for each (subject id, language).
fn descriptions() -> HashMap<(String, String), String> {
    subjects()
        .into_iter()
        .map(|r| ((r.id, r.lang), r.description))
        .collect()
}

/// The labels that can be anchored: in a flat vocabulary, those with neither a description nor
/// examples (what a site wrote about a label always wins).
pub fn anchorable(taxonomy: &Taxonomy) -> Vec<usize> {
    if taxonomy.hierarchical {
        return Vec::new();
    }
    (0..taxonomy.labels.len())
        .filter(|&i| {
            let l = &taxonomy.labels[i];
            l.description.trim().is_empty() && l.examples.is_empty()
        })
        .collect()
}

/// Each label's anchor, as an index into `candidates`: `labels[k]` is the label index whose name
/// `label_vecs[k]` embeds. A label anchors to its nearest candidate at `MIN_COSINE` or above (the
/// earlier candidate on a tie), unless another label anchors to the same top-level subject.
pub fn choose(
    labels: &[usize],
    label_vecs: &[Vec<f32>],
    candidates: &[Candidate],
    candidate_vecs: &[Vec<f32>],
) -> BTreeMap<usize, usize> {
    let mut best: BTreeMap<usize, usize> = BTreeMap::new();
    for (&label, v) in labels.iter().zip(label_vecs) {
        let mut top: Option<(usize, f32)> = None;
        for (j, c) in candidate_vecs.iter().enumerate() {
            let s = cosine(v, c);
            if s >= MIN_COSINE && top.is_none_or(|(_, t)| s > t) {
                top = Some((j, s));
            }
        }
        if let Some((j, _)) = top {
            best.insert(label, j);
        }
    }
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for &j in best.values() {
        *uses.entry(candidates[j].top.as_str()).or_default() += 1;
    }
    best.retain(|_, j| uses[candidates[*j].top.as_str()] == 1);
    best
}

/// The vocabulary as its labels' vectors should see it, and what each anchored label borrowed
/// (label id -> `medtop:…@lang`): each anchored label gets the description of its top-level
/// subject in `language` (the vocabulary's) where lede has one, else in the language of the name
/// it matched, else English; its facets split from it as for a description the site wrote.
/// Everything else unchanged.
pub fn anchored(
    taxonomy: &Taxonomy,
    anchors: &BTreeMap<usize, usize>,
    candidates: &[Candidate],
    language: &str,
) -> (Taxonomy, BTreeMap<String, String>) {
    let texts = descriptions();
    let mut out = taxonomy.clone();
    let mut borrowed = BTreeMap::new();
    for (&label, &j) in anchors {
        let c = &candidates[j];
        let found = [language, c.lang, "en"].into_iter().find_map(|lang| {
            texts
                .get(&(c.top.clone(), lang.to_string()))
                .map(|d| (lang, d))
        });
        let Some((lang, d)) = found else {
            continue;
        };
        let l = &mut out.labels[label];
        l.description = d.clone();
        l.facets = super::facets_of(d);
        borrowed.insert(l.id.clone(), format!("{}@{lang}", c.top));
    }
    (out, borrowed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::topics::Label;

    fn flat(labels: &[(&str, &str)]) -> Taxonomy {
        Taxonomy {
            scheme: "site".into(),
            labels: labels
                .iter()
                .map(|(name, description)| Label {
                    id: name.to_string(),
                    label: name.to_string(),
                    translations: BTreeMap::new(),
                    description: description.to_string(),
                    path: vec![name.to_string()],
                    examples: Vec::new(),
                    narrower: Vec::new(),
                    facets: crate::stages::topics::facets_of(description),
                })
                .collect(),
            hierarchical: false,
        }
    }

    fn candidate(name: &str, lang: &'static str, top: &str) -> Candidate {
        Candidate {
            name: name.into(),
            lang,
            top: top.into(),
        }
    }

    #[test]
    fn every_iptc_name_leads_to_a_described_top_level_subject_in_every_language() {
        let cands = candidates("und");
        let texts = descriptions();
        for lang in LANGUAGES {
            let n = cands.iter().filter(|c| c.lang == lang).count();
            assert!(n > 100, "{lang}: {n} names");
            // A vocabulary in one of them is matched in it alone.
            let own = candidates(lang);
            assert_eq!(own.len(), n);
            assert!(own.iter().all(|c| c.lang == lang));
        }
        for c in &cands {
            for lang in LANGUAGES {
                assert!(
                    texts.contains_key(&(c.top.clone(), lang.to_string())),
                    "{} has no {lang} description",
                    c.top
                );
            }
        }
        // Polish names are lede's own (IPTC has none).
        assert!(cands
            .iter()
            .any(|c| c.lang == "pl" && c.name == "sport" && c.top == "medtop:15000000"));
    }

    #[test]
    fn only_bare_names_of_a_flat_vocabulary_are_anchored() {
        let t = flat(&[("Sport", ""), ("Biznes", "firmy, banki i giełda")]);
        assert_eq!(anchorable(&t), vec![0]);
        let mut with_examples = t.clone();
        with_examples.labels[0].examples = vec!["Mecz zakończył się remisem.".into()];
        assert!(anchorable(&with_examples).is_empty());
        assert!(anchorable(&Taxonomy::iptc(1)).is_empty());
    }

    #[test]
    fn a_name_anchors_to_its_nearest_subject_only_when_close_and_unshared() {
        let cands = vec![
            candidate("sport", "pl", "medtop:15000000"),
            candidate("gospodarka", "pl", "medtop:04000000"),
            candidate("rynki", "pl", "medtop:04000000"),
        ];
        let cand_vecs = vec![
            vec![1.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0],
            vec![0.0, 0.6, 0.8],
        ];
        // "Sport" sits on its subject; "Polska" between two, near neither.
        let chosen = choose(
            &[0, 1],
            &[vec![0.99, 0.1, 0.0], vec![0.5, 0.5, 0.5]],
            &cands,
            &cand_vecs,
        );
        assert_eq!(chosen, BTreeMap::from([(0, 0)]));
        // Two labels that would borrow the same top-level description: neither does.
        let chosen = choose(
            &[0, 1],
            &[vec![0.0, 1.0, 0.05], vec![0.0, 0.62, 0.8]],
            &cands,
            &cand_vecs,
        );
        assert!(chosen.is_empty(), "{chosen:?}");
    }

    #[test]
    fn an_anchored_label_borrows_the_description_in_the_vocabularys_language() {
        let t = flat(&[("Sport", ""), ("Polska", "")]);
        let cands = vec![candidate("Sport", "de", "medtop:15000000")];
        let (seen, borrowed) = anchored(&t, &BTreeMap::from([(0, 0)]), &cands, "pl");
        let texts = descriptions();
        let polish = &texts[&("medtop:15000000".to_string(), "pl".to_string())];
        assert_eq!(&seen.labels[0].description, polish);
        assert!(seen.labels[0].facets.len() > 3);
        // What the site wrote stays its own; the other label is untouched.
        assert_eq!(seen.labels[0].label, "Sport");
        assert_eq!(seen.labels[0].id, "Sport");
        assert_eq!(seen.labels[1], t.labels[1]);
        assert_eq!(
            borrowed,
            BTreeMap::from([("Sport".to_string(), "medtop:15000000@pl".to_string())])
        );
        // A vocabulary in a language lede has no descriptions in: the matched name's language.
        let (seen, borrowed) = anchored(&t, &BTreeMap::from([(0, 0)]), &cands, "it");
        assert_eq!(
            seen.labels[0].description,
            texts[&("medtop:15000000".to_string(), "de".to_string())]
        );
        assert_eq!(borrowed["Sport"], "medtop:15000000@de");
    }
}
