//! Topics from a controlled vocabulary: the `Tagger` stage. Built in: IPTC Media Topics; or the site's
//! own tag list (`--taxonomy`), optionally learnt from already tagged articles (`--learn-from`).
//!
//! Each label is embedded once per run (its label text, definition, and examples); an article is scored
//! against every label by cosine similarity of vectors, so the model work grows with articles plus
//! labels, never with their product.
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// The IPTC Media Topics vocabulary shipped in `models/iptc/` (CC BY 4.0, see its README).
pub const IPTC_JSONL: &str = include_str!("../models/iptc/iptc-mediatopics.jsonl");

#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub id: String,
    /// The label as the vocabulary gives it (for a one-label-per-line file: the line, unchanged).
    pub label: String,
    /// Translations by ISO 639-1 code, where the vocabulary has them.
    pub translations: BTreeMap<String, String>,
    pub description: String,
    /// Ids from the root down to this label (hierarchical vocabularies), this label last.
    pub path: Vec<String>,
    pub examples: Vec<String>,
    /// Names of the labels below this one in the vocabulary's tree, at every depth (also deeper
    /// than `--topic-depth`): the concrete words that say what a broad subject covers.
    pub narrower: Vec<String>,
    /// The parts of a description written as a list ("companies, markets, jobs"): each is
    /// embedded on its own (see `subject_vectors`).
    pub facets: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Taxonomy {
    /// `iptc-mediatopic`, or the file name of a user's vocabulary.
    pub scheme: String,
    pub labels: Vec<Label>,
    /// Labels have parents (topics then carry their id path).
    pub hierarchical: bool,
}

fn bad(path: &Path, line: usize, reason: impl std::fmt::Display) -> Error {
    Error::Config(format!("taxonomy {}:{line}: {reason}", path.display()))
}

/// A description's facets: its parts between commas, semicolons and colons ("Wirtschaft:
/// Unternehmen, Märkte, Banken" has four), when there are at least two; a description in one
/// piece has none. People describe a category by listing what it covers, and a list's items
/// embedded one by one say more than the whole line as one text (measured in benches/QUALITY.md).
pub fn facets_of(description: &str) -> Vec<String> {
    let parts: Vec<String> = description
        .split([',', ';', ':'])
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() < 2 {
        return Vec::new();
    }
    parts
}

impl Taxonomy {
    /// IPTC Media Topics down to `max_depth` levels (1 = the 17 top-level subjects).
    pub fn iptc(max_depth: usize) -> Taxonomy {
        #[derive(Deserialize)]
        struct Concept {
            id: String,
            parent: Option<String>,
            level: usize,
            retired: bool,
            labels: BTreeMap<String, String>,
            #[serde(default)]
            definitions: BTreeMap<String, String>,
        }
        let concepts: Vec<Concept> = IPTC_JSONL
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).expect("shipped IPTC vocabulary parses (checked by tests)")
            })
            .collect();
        let parents: BTreeMap<&str, Option<&str>> = concepts
            .iter()
            .map(|c| (c.id.as_str(), c.parent.as_deref()))
            .collect();
        // Every current concept's English name, added to each of its ancestors (file order).
        let mut narrower: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for c in concepts.iter().filter(|c| !c.retired) {
            let Some(name) = c.labels.get("en-GB").filter(|n| !n.trim().is_empty()) else {
                continue;
            };
            let mut cur = c.parent.as_deref();
            while let Some(p) = cur {
                narrower.entry(p).or_default().push(name.clone());
                cur = parents.get(p).copied().flatten();
            }
        }
        let labels = concepts
            .iter()
            .filter(|c| !c.retired && c.level <= max_depth)
            .map(|c| {
                let mut path = vec![c.id.clone()];
                let mut cur = c.parent.as_deref();
                while let Some(p) = cur {
                    path.push(p.to_string());
                    cur = parents.get(p).copied().flatten();
                }
                path.reverse();
                // IPTC language tags to the ISO 639-1 codes lede detects.
                let mut translations = BTreeMap::new();
                for (tag, text) in &c.labels {
                    let code = match tag.as_str() {
                        "en-GB" => "en",
                        "pt-PT" => "pt",
                        "zh-Hans" => "zh",
                        t if t.len() == 2 => t,
                        _ => continue,
                    };
                    translations.insert(code.to_string(), text.clone());
                }
                Label {
                    id: c.id.clone(),
                    label: c.labels.get("en-GB").cloned().unwrap_or_default(),
                    translations,
                    description: c.definitions.get("en-GB").cloned().unwrap_or_default(),
                    path,
                    examples: Vec::new(),
                    narrower: narrower.remove(c.id.as_str()).unwrap_or_default(),
                    // IPTC's definitions are prose; its narrower names say what a subject covers.
                    facets: Vec::new(),
                }
            })
            .collect();
        Taxonomy {
            scheme: "iptc-mediatopic".into(),
            labels,
            hierarchical: true,
        }
    }

    /// A site's own vocabulary: a text file with one label per line (`#` comments and blank lines
    /// skipped), or JSON (an array) / JSON lines of `{"id", "label", "description"?, "examples"?}`.
    pub fn from_file(path: &Path) -> Result<Taxonomy> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let scheme = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "custom".into());
        let trimmed = text.trim_start_matches('\u{feff}').trim_start();
        let is_json = path
            .extension()
            .is_some_and(|e| e == "json" || e == "jsonl")
            || trimmed.starts_with(['[', '{']);
        let mut labels = Vec::new();
        if is_json {
            let items: Vec<(usize, Value)> = if trimmed.starts_with('[') {
                let arr: Vec<Value> =
                    serde_json::from_str(trimmed).map_err(|e| bad(path, e.line(), e))?;
                arr.into_iter()
                    .enumerate()
                    .map(|(i, v)| (i + 1, v))
                    .collect()
            } else {
                let mut items = Vec::new();
                for (i, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    items.push((
                        i + 1,
                        serde_json::from_str(line).map_err(|e| bad(path, i + 1, e))?,
                    ));
                }
                items
            };
            for (n, v) in items {
                let obj = v
                    .as_object()
                    .ok_or_else(|| bad(path, n, "expected an object with id and label"))?;
                let get = |k: &str| obj.get(k).and_then(|x| x.as_str()).map(|s| s.to_string());
                let label = get("label")
                    .filter(|s| !s.trim().is_empty())
                    .ok_or_else(|| bad(path, n, "missing \"label\""))?;
                let id = match obj.get("id") {
                    Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
                    Some(Value::Number(x)) => x.to_string(),
                    None => label.clone(),
                    Some(_) => return Err(bad(path, n, "\"id\" must be a string or number")),
                };
                let examples = match obj.get("examples") {
                    None => Vec::new(),
                    Some(Value::Array(a)) => a
                        .iter()
                        .map(|x| {
                            x.as_str()
                                .map(String::from)
                                .ok_or_else(|| bad(path, n, "examples must be strings"))
                        })
                        .collect::<Result<_>>()?,
                    Some(_) => {
                        return Err(bad(path, n, "\"examples\" must be an array of strings"))
                    }
                };
                labels.push((
                    n,
                    Label {
                        path: vec![id.clone()],
                        id,
                        label,
                        translations: BTreeMap::new(),
                        facets: facets_of(&get("description").unwrap_or_default()),
                        description: get("description").unwrap_or_default(),
                        examples,
                        narrower: Vec::new(),
                    },
                ));
            }
        } else {
            for (i, line) in text.lines().enumerate() {
                let l = line.trim_start_matches('\u{feff}');
                if l.trim().is_empty() || l.trim_start().starts_with('#') {
                    continue;
                }
                // The label comes back exactly as written (surrounding whitespace aside).
                let label = l.trim().to_string();
                labels.push((
                    i + 1,
                    Label {
                        id: label.clone(),
                        label: label.clone(),
                        translations: BTreeMap::new(),
                        description: String::new(),
                        path: vec![label],
                        examples: Vec::new(),
                        narrower: Vec::new(),
                        facets: Vec::new(),
                    },
                ));
            }
        }
        if labels.is_empty() {
            return Err(Error::Config(format!(
                "taxonomy {}: no labels",
                path.display()
            )));
        }
        let mut seen = HashSet::new();
        for (n, l) in &labels {
            if !seen.insert(l.id.clone()) {
                return Err(bad(path, *n, format!("duplicate id {:?}", l.id)));
            }
        }
        Ok(Taxonomy {
            scheme,
            labels: labels.into_iter().map(|(_, l)| l).collect(),
            hierarchical: false,
        })
    }

    /// Identity of the vocabulary's content, for the config fingerprint and the label-vector cache.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.scheme.as_bytes());
        for l in &self.labels {
            for part in [&l.id, &l.label, &l.description] {
                h.update(part.as_bytes());
                h.update([0]);
            }
            for e in &l.examples {
                h.update(e.as_bytes());
                h.update([1]);
            }
            for n in &l.narrower {
                h.update(n.as_bytes());
                h.update([2]);
            }
        }
        format!("sha256:{}", hex::encode(h.finalize()))
    }

    /// Every distinct name of a narrower label and every facet, in first-seen order: embedded
    /// once per run beside `label_texts()` (see `subject_vectors`).
    pub fn part_texts(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.labels
            .iter()
            .flat_map(|l| l.narrower.iter().chain(&l.facets))
            .filter(|n| seen.insert(n.as_str()))
            .cloned()
            .collect()
    }

    /// The text each label is embedded from: its name, then its definition.
    pub fn label_texts(&self) -> Vec<String> {
        self.labels
            .iter()
            .map(|l| {
                if l.description.is_empty() {
                    l.label.clone()
                } else {
                    format!("{}: {}", l.label, l.description)
                }
            })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TopicOptions {
    pub top_k: usize,
    /// Topics scoring below this are not reported.
    pub threshold: f32,
}

impl Default for TopicOptions {
    fn default() -> Self {
        TopicOptions {
            top_k: 3,
            threshold: 0.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Topic {
    pub id: String,
    pub label: String,
    /// The label's share of the article's sentence votes (0 to 1; see `assign`), rounded to 4
    /// decimals.
    pub score: f64,
    pub scheme: String,
    /// Ids from the root, where the vocabulary is hierarchical.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<String>>,
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn normalize(v: &mut [f32]) {
    let n = dot(v, v).sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// How much an article's title counts, against one body sentence's 1.0, when it is matched to
/// labels (`assign`; and against the body's mean vector in the example means of `--learn-from`):
/// short, punning titles should not decide (measured in benches/QUALITY.md).
pub const TITLE_WEIGHT: f32 = 0.5;

/// How much of a label's similarity to text in general (the mean of the reference texts) is taken
/// off its score, for labels known only by their text in a flat vocabulary. A short label ("Sport")
/// sits near every text and otherwise wins articles about anything (the "hub" problem of
/// nearest-neighbour search in embedding spaces); measured in benches/QUALITY.md.
pub const HUB_CORRECTION: f32 = 0.5;

/// Texts that stand for "text in general" when a label's hubness is measured: every IPTC Media Topic
/// ("label: definition", English), i.e. a sentence about each subject the news covers.
pub fn reference_texts() -> Vec<String> {
    Taxonomy::iptc(6).label_texts()
}

/// Each label's vector as a subject. With narrower labels (IPTC): the mean of its own text's
/// vector and the vectors of every narrower label's name (each L2-normalised first): IPTC's
/// definitions of broad subjects are abstract ("All forms of arts, entertainment, cultural heritage
/// and media"); the names below them ("cinema", "music", "museum") are the words articles use.
/// With facets (a description written as a list): its own text and the mean of its facets, at
/// equal weight, since a handful of facets is a spelling-out of the label rather than hundreds of
/// subjects. Otherwise its text's vector. All L2-normalised; measured in benches/QUALITY.md.
/// `part_vecs[i]` embeds `taxonomy.part_texts()[i]`.
pub fn subject_vectors(
    taxonomy: &Taxonomy,
    text_vecs: Vec<Vec<f32>>,
    part_vecs: &[Vec<f32>],
) -> Vec<Vec<f32>> {
    let index: HashMap<String, usize> = taxonomy
        .part_texts()
        .into_iter()
        .enumerate()
        .map(|(i, t)| (t, i))
        .collect();
    let unit = |v: &[f32]| {
        let mut v = v.to_vec();
        normalize(&mut v);
        v
    };
    let sum_of = |names: &[String]| {
        let mut sum = vec![0f32; text_vecs.first().map_or(0, |v| v.len())];
        for n in names {
            let v = unit(&part_vecs[index[n.as_str()]]);
            sum.iter_mut().zip(&v).for_each(|(s, x)| *s += x);
        }
        sum
    };
    taxonomy
        .labels
        .iter()
        .zip(text_vecs.iter())
        .map(|(l, own)| {
            let mut v = unit(own);
            if !l.narrower.is_empty() {
                v.iter_mut()
                    .zip(sum_of(&l.narrower))
                    .for_each(|(a, x)| *a += x);
            } else if !l.facets.is_empty() {
                let n = l.facets.len() as f32;
                v.iter_mut()
                    .zip(sum_of(&l.facets))
                    .for_each(|(a, x)| *a += x / n);
            } else {
                return own.clone();
            }
            normalize(&mut v);
            v
        })
        .collect()
}

/// The labels of a vocabulary as vectors ready for scoring, with each label's ancestors where the
/// vocabulary is a tree and each label's hub correction where it is flat.
#[derive(Debug, Clone)]
pub struct LabelSpace {
    /// Each label's vector, L2-normalised.
    pub vecs: Vec<Vec<f32>>,
    /// Indices of each label's ancestors in the vocabulary (empty in a flat one).
    ancestors: Vec<Vec<usize>>,
    /// Taken off each label's cosine (0 for labels with examples, and in a tree).
    bias: Vec<f32>,
}

impl LabelSpace {
    /// `text_vecs[i]` embeds label i's text; `example_means[i]` is the normalised mean vector of its
    /// examples (from the vocabulary file or from articles tagged by hand), added with
    /// `example_weight`. `reference` is the mean vector of `reference_texts()`, needed for a flat
    /// vocabulary only.
    pub fn new(
        taxonomy: &Taxonomy,
        text_vecs: Vec<Vec<f32>>,
        example_means: &[Option<Vec<f32>>],
        example_weight: f32,
        reference: Option<&[f32]>,
    ) -> LabelSpace {
        let vecs: Vec<Vec<f32>> = text_vecs
            .into_iter()
            .zip(example_means)
            .map(|(mut v, ex)| {
                if let Some(ex) = ex {
                    for (x, e) in v.iter_mut().zip(ex) {
                        *x += example_weight * e;
                    }
                }
                normalize(&mut v);
                v
            })
            .collect();
        // In a tree the path mean already keeps narrow labels in their branch; with examples a
        // label stands in article space, where the correction measured worse.
        let bias = vecs
            .iter()
            .zip(example_means)
            .map(|(v, ex)| match reference {
                Some(r) if !taxonomy.hierarchical && ex.is_none() => HUB_CORRECTION * dot(v, r),
                _ => 0.0,
            })
            .collect();
        let index: HashMap<&str, usize> = taxonomy
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.id.as_str(), i))
            .collect();
        let ancestors = taxonomy
            .labels
            .iter()
            .map(|l| {
                let above = &l.path[..l.path.len().saturating_sub(1)];
                above
                    .iter()
                    .filter_map(|id| index.get(id.as_str()).copied())
                    .collect()
            })
            .collect();
        LabelSpace {
            vecs,
            ancestors,
            bias,
        }
    }
}

/// How sharply one sentence's vote goes to the labels it is nearest (a softmax temperature on
/// the cosine scale; e5's cosines between a sentence and the labels span a few hundredths).
/// Measured in benches/QUALITY.md: 0.005 to 0.02 score alike, 0.05 loses.
pub const VOTE_TEMPERATURE: f32 = 0.01;

/// Top topics for one article, best first; ties go to the label listed first. `parts` are the
/// article's sentence vectors, each with its weight (the title at `TITLE_WEIGHT`); zero vectors
/// (texts without a vector) are skipped.
///
/// Each sentence votes: a softmax over the labels of its scores, so a sentence gives most of its
/// weight to the labels it is nearest. A label's score is its weighted share of the votes (0 to
/// 1; the shares of all labels sum to 1): the part of the article that is about it. An article
/// about two things gives both a share, where the mean of its sentences sits between them and
/// near neither; measured in benches/QUALITY.md. A sentence's score for a label is its cosine to
/// the label, less the label's hub correction in a flat vocabulary; in a tree (IPTC) it is the mean
/// of the cosines along the label's path from the top, so a narrow label wins only inside a branch
/// that fits. Without that, narrow labels whose text happens to sit near everything ("leisure",
/// "retirement") won unrelated articles.
pub fn assign(
    parts: &[(&[f32], f32)],
    taxonomy: &Taxonomy,
    space: &LabelSpace,
    language: &str,
    options: &TopicOptions,
) -> Vec<Topic> {
    let n = space.vecs.len();
    let mut shares = vec![0f32; n];
    let mut total = 0f32;
    let mut cosines = vec![0f32; n];
    let mut scores = vec![0f32; n];
    for &(part, weight) in parts {
        if weight <= 0.0 || part.iter().all(|x| *x == 0.0) {
            continue;
        }
        for ((c, v), b) in cosines.iter_mut().zip(&space.vecs).zip(&space.bias) {
            *c = dot(part, v) - b;
        }
        for ((s, above), c) in scores.iter_mut().zip(&space.ancestors).zip(&cosines) {
            let sum: f32 = c + above.iter().map(|&a| cosines[a]).sum::<f32>();
            *s = sum / (1 + above.len()) as f32;
        }
        let top = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut z = 0f32;
        for s in scores.iter_mut() {
            *s = ((*s - top) / VOTE_TEMPERATURE).exp();
            z += *s;
        }
        for (share, s) in shares.iter_mut().zip(&scores) {
            *share += weight * s / z;
        }
        total += weight;
    }
    if total == 0.0 {
        return Vec::new();
    }
    let mut scored: Vec<(usize, f32)> = shares
        .iter()
        .enumerate()
        .map(|(i, s)| (i, s / total))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
        .into_iter()
        .filter(|(_, s)| *s >= options.threshold)
        .take(options.top_k)
        .map(|(i, s)| {
            let l = &taxonomy.labels[i];
            Topic {
                id: l.id.clone(),
                label: l
                    .translations
                    .get(language)
                    .cloned()
                    .unwrap_or_else(|| l.label.clone()),
                score: (f64::from(s) * 10_000.0).round() / 10_000.0,
                scheme: taxonomy.scheme.clone(),
                path: taxonomy.hierarchical.then(|| l.path.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn iptc_levels_paths_and_translations() {
        let top = Taxonomy::iptc(1);
        assert_eq!(top.labels.len(), 17);
        let two = Taxonomy::iptc(2);
        assert!(two.labels.len() > 100);
        let all = Taxonomy::iptc(6);
        let deep = all.labels.iter().find(|l| l.path.len() >= 3).unwrap();
        assert!(deep.path[0].starts_with("medtop:") && deep.path.last() == Some(&deep.id));
        let politics = top
            .labels
            .iter()
            .find(|l| l.id == "medtop:11000000")
            .unwrap();
        assert_eq!(
            politics.translations.get("de").map(String::as_str),
            Some("Politik")
        );
        assert!(
            politics.translations.get("pl").is_none(),
            "IPTC has no Polish labels"
        );
    }

    #[test]
    fn iptc_subjects_know_the_names_below_them_at_every_depth() {
        let top = Taxonomy::iptc(1);
        let sport = top
            .labels
            .iter()
            .find(|l| l.id == "medtop:15000000")
            .unwrap();
        // "competition discipline" is one level down, "tennis" two: both count, although
        // `--topic-depth 1` keeps only the top level as labels.
        for name in ["competition discipline", "tennis", "cycling"] {
            assert!(sport.narrower.iter().any(|n| n == name), "{name}");
        }
        assert!(!sport.narrower.iter().any(|n| n == "election"));
        let all = Taxonomy::iptc(6);
        let leaf = all.labels.iter().find(|l| l.label == "tennis").unwrap();
        assert!(leaf.narrower.is_empty());
        // A deeper vocabulary is another vocabulary (its cache entry and fingerprint change).
        assert_ne!(top.hash(), Taxonomy::iptc(2).hash());
        let texts = top.part_texts();
        let distinct: HashSet<&String> = texts.iter().collect();
        assert_eq!(distinct.len(), texts.len());
    }

    #[test]
    fn a_broad_subject_is_matched_by_what_it_covers() {
        // "sport"'s own text is abstract (e_0); its narrower names point where match reports are
        // (e_1). A match report (mostly e_1) now goes to sport rather than to "politics" (e_2),
        // which its raw cosine to the abstract text would have preferred.
        let t = Taxonomy::iptc(1);
        let n = t.labels.len();
        let sport = t
            .labels
            .iter()
            .position(|l| l.id == "medtop:15000000")
            .unwrap();
        let politics = t
            .labels
            .iter()
            .position(|l| l.id == "medtop:11000000")
            .unwrap();
        let dim = 3;
        let mut text_vecs = vec![vec![0.0, 0.0, 0.0]; n];
        text_vecs[sport] = vec![1.0, 0.0, 0.0];
        text_vecs[politics] = vec![0.0, 0.0, 1.0];
        let narrower = t.part_texts();
        let narrower_vecs: Vec<Vec<f32>> = narrower
            .iter()
            .map(|name| {
                let under_sport = t.labels[sport].narrower.contains(name);
                let mut v = vec![0.0; dim];
                v[if under_sport { 1 } else { 0 }] = 1.0;
                v
            })
            .collect();
        let article = [0.2, 0.7, 0.68];
        let plain = LabelSpace::new(&t, text_vecs.clone(), &vec![None; n], 2.0, None);
        let top = |s: &LabelSpace| {
            assign(&[(&article, 1.0)], &t, s, "en", &TopicOptions::default())[0]
                .id
                .clone()
        };
        assert_eq!(top(&plain), "medtop:11000000");
        let subjects = subject_vectors(&t, text_vecs, &narrower_vecs);
        let norm: f32 = subjects[sport].iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-6);
        // Politics' narrower names lie on e_0 in this toy space: it moves away from the article.
        let space = LabelSpace::new(&t, subjects, &vec![None; n], 2.0, None);
        assert_eq!(top(&space), "medtop:15000000");
    }

    fn file(name: &str, content: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::File::create(&p)
            .unwrap()
            .write_all(content.as_bytes())
            .unwrap();
        (dir, p)
    }

    #[test]
    fn plain_label_files_keep_labels_verbatim() {
        let (_d, p) = file(
            "tags.txt",
            "# site tags\nBezpieczeństwo  \n\nIndo-Pacyfik\nChiny / Tajwan\n",
        );
        let t = Taxonomy::from_file(&p).unwrap();
        let labels: Vec<_> = t.labels.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["Bezpieczeństwo", "Indo-Pacyfik", "Chiny / Tajwan"]);
        assert_eq!(t.scheme, "tags");
    }

    #[test]
    fn a_description_written_as_a_list_has_facets() {
        assert_eq!(
            facets_of("Wirtschaft: Unternehmen, Märkte; Banken"),
            ["Wirtschaft", "Unternehmen", "Märkte", "Banken"]
        );
        assert!(facets_of("Everything about the economy and its markets").is_empty());
        assert!(facets_of(" , ").is_empty());
        let (_d, p) = file(
            "t.jsonl",
            "{\"id\":\"biz\",\"label\":\"Business\",\"description\":\"companies, markets\"}\n{\"id\":\"x\",\"label\":\"X\"}\n",
        );
        let t = Taxonomy::from_file(&p).unwrap();
        assert_eq!(t.part_texts(), ["companies", "markets"]);
        // The label's own text and the mean of its facets, at equal weight: e_0 + (e_1 + e_2) / 2.
        let own = vec![vec![1.0, 0.0, 0.0], vec![0.0, 0.0, 1.0]];
        let parts = vec![vec![0.0, 1.0, 0.0], vec![0.0, 0.0, 1.0]];
        let v = subject_vectors(&t, own, &parts);
        let expect = [2.0, 1.0, 1.0].map(|x: f32| x / 6f32.sqrt());
        assert!(
            v[0].iter().zip(expect).all(|(a, b)| (a - b).abs() < 1e-6),
            "{v:?}"
        );
        assert_eq!(v[1], [0.0, 0.0, 1.0]);
    }

    #[test]
    fn bad_taxonomies_name_the_line() {
        let (_d, p) = file("t.txt", "\n# nothing\n");
        assert!(Taxonomy::from_file(&p)
            .unwrap_err()
            .to_string()
            .contains("no labels"));
        let (_d, p) = file("t.txt", "Sport\nPolityka\nSport\n");
        assert!(Taxonomy::from_file(&p)
            .unwrap_err()
            .to_string()
            .contains("t.txt:3: duplicate id \"Sport\""));
        let (_d, p) = file(
            "t.jsonl",
            "{\"id\":\"a\",\"label\":\"A\"}\n{\"id\":\"b\",\n",
        );
        assert!(Taxonomy::from_file(&p)
            .unwrap_err()
            .to_string()
            .contains("t.jsonl:2:"));
        let (_d, p) = file(
            "t.json",
            "[{\"id\":\"a\",\"label\":\"A\"},{\"id\":\"a\",\"label\":\"B\"}]",
        );
        assert!(Taxonomy::from_file(&p)
            .unwrap_err()
            .to_string()
            .contains("duplicate id \"a\""));
        let (_d, p) = file("t.json", "[{\"id\":\"a\"}]");
        assert!(Taxonomy::from_file(&p)
            .unwrap_err()
            .to_string()
            .contains("missing \"label\""));
    }

    #[test]
    fn assign_ranks_and_thresholds() {
        let (_d, p) = file(
            "t.json",
            r#"[{"id":"x","label":"X","description":"d"},{"id":"y","label":"Y"}]"#,
        );
        let t = Taxonomy::from_file(&p).unwrap();
        let space = LabelSpace::new(
            &t,
            vec![vec![1.0, 0.0], vec![0.0, 1.0]],
            &[None, None],
            2.0,
            None,
        );
        // An article about two things: one sentence on each, and a title (half a sentence) on y.
        // Both get their share; the mean of the sentences would sit between them, near neither.
        let parts: [(&[f32], f32); 4] = [
            (&[1.0, 0.0], 1.0),
            (&[0.0, 1.0], 1.0),
            (&[0.6, 0.8], 0.5),
            (&[0.0, 0.0], 1.0), // a text without a vector does not vote
        ];
        let options = |threshold| TopicOptions {
            top_k: 2,
            threshold,
        };
        let got = assign(&parts, &t, &space, "en", &options(0.0));
        let ids: Vec<_> = got.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["y", "x"]);
        assert_eq!((got[0].score, got[1].score), (0.6, 0.4));
        let got = assign(&parts, &t, &space, "en", &options(0.5));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id, "y");
        assert!(assign(&[], &t, &space, "en", &options(0.0)).is_empty());
        assert_eq!(t.label_texts()[0], "X: d");
    }

    #[test]
    fn a_narrow_label_wins_only_inside_a_branch_that_fits() {
        // IPTC: "sport" > "sports officiating"; "lifestyle and leisure" > "leisure". An article about
        // a match whose nearest single label is "leisure" (0.62 against 0.60) goes to the sport
        // branch, because "sport" fits it far better than "lifestyle and leisure".
        let t = Taxonomy::iptc(2);
        let pos = |id: &str| t.labels.iter().position(|l| l.id == id).unwrap();
        let (sport, officiating) = (pos("medtop:15000000"), pos("medtop:20001325"));
        let (lifestyle, leisure) = (pos("medtop:10000000"), pos("medtop:20000538"));
        let n = t.labels.len();
        // Label i is the unit vector e_i; the article is a mix of the four labels above.
        let text_vecs: Vec<Vec<f32>> = (0..n)
            .map(|i| (0..n).map(|j| f32::from(u8::from(i == j))).collect())
            .collect();
        let mut article = vec![0f32; n];
        article[sport] = 0.5;
        article[officiating] = 0.60;
        article[lifestyle] = 0.1;
        article[leisure] = 0.62;
        let space = LabelSpace::new(&t, text_vecs, &vec![None; n], 2.0, Some(&article));
        let got = assign(
            &[(&article, 1.0)],
            &t,
            &space,
            "en",
            &TopicOptions::default(),
        );
        assert_eq!(got[0].id, "medtop:20001325", "{got:?}");
        assert_eq!(got[0].path.as_ref().unwrap()[0], "medtop:15000000");
        // Path means 0.55 against sport's 0.50: five temperatures apart, nearly the whole vote.
        assert!(got[0].score > 0.99, "{got:?}");
        assert_eq!(got[1].id, "medtop:15000000");
    }

    #[test]
    fn a_label_near_all_text_is_corrected_in_a_flat_vocabulary() {
        let (_d, p) = file("t.txt", "Sport\nSecurity\n");
        let t = Taxonomy::from_file(&p).unwrap();
        // "Sport" sits near text in general (the reference), "Security" less so; the article is
        // a little nearer "Sport" by raw cosine.
        let reference = [0.9, 0.1, 0.0];
        let article = [0.7, 0.0, 0.714];
        let labels = vec![vec![0.8, 0.0, 0.6], vec![0.0, 0.2, 0.98]];
        let plain = LabelSpace::new(&t, labels.clone(), &[None, None], 2.0, None);
        let top = |s: &LabelSpace| {
            assign(&[(&article, 1.0)], &t, s, "en", &TopicOptions::default())[0]
                .id
                .clone()
        };
        assert_eq!(top(&plain), "Sport");
        let corrected = LabelSpace::new(&t, labels.clone(), &[None, None], 2.0, Some(&reference));
        assert_eq!(top(&corrected), "Security");
        // A label learnt from examples is not corrected.
        let learnt = LabelSpace::new(
            &t,
            labels,
            &[Some(vec![1.0, 0.0, 0.0]), None],
            0.0,
            Some(&reference),
        );
        assert_eq!(top(&learnt), "Sport");
    }
}
