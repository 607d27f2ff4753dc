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

pub mod anchor;
pub mod centre;
pub mod head;
pub mod learn;
pub mod lexical;

/// The IPTC Media Topics vocabulary shipped in `models/iptc/` (CC BY 4.0, see its README).
pub const IPTC_JSONL: &str = include_str!("../../../models/iptc/iptc-mediatopics.jsonl");

/// Polish labels of IPTC's top two levels, written for lede (IPTC has none): a Polish site sees
/// Polish tags.
pub const IPTC_POLISH_JSONL: &str = include_str!("../../../models/iptc/labels-pl.jsonl");

/// One label of a vocabulary: what a topic can be, and the texts it is embedded from.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// Unique id within the vocabulary (an IPTC code; for a site's list, its `id` or the label).
    pub id: String,
    /// The label as the vocabulary gives it (for a one-label-per-line file: the line, unchanged).
    pub label: String,
    /// Translations by ISO 639-1 code, where the vocabulary has them.
    pub translations: BTreeMap<String, String>,
    /// The label's definition, embedded after its name; empty when the vocabulary has none.
    pub description: String,
    /// Ids from the root down to this label (hierarchical vocabularies), this label last.
    pub path: Vec<String>,
    /// Texts that belong under this label (from the vocabulary file); their mean vector is added
    /// to the label's own.
    pub examples: Vec<String>,
    /// Names of the labels below this one in the vocabulary's tree, at every depth (also deeper
    /// than `--topic-depth`): the concrete words that say what a broad subject covers.
    pub narrower: Vec<String>,
    /// The parts of a description written as a list ("companies, markets, jobs"): each is
    /// embedded on its own (see `subject_vectors`).
    pub facets: Vec<String>,
}

/// A controlled vocabulary: the labels an article's topics are chosen from.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    /// `iptc-mediatopic`, or the file name of a user's vocabulary.
    pub scheme: String,
    /// Every label, in the vocabulary's order.
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
        let polish: HashMap<String, String> = IPTC_POLISH_JSONL
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("shipped Polish labels parse");
                (
                    v["id"].as_str().unwrap_or_default().to_string(),
                    v["pl"].as_str().unwrap_or_default().to_string(),
                )
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
                if let Some(pl) = polish.get(c.id.as_str()) {
                    translations.insert("pl".into(), pl.clone());
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
        Self::parse(path, scheme, &text)
    }

    /// A site's vocabulary from the text of its file (`path` names it in errors and decides JSON
    /// by its extension), under the name `scheme`.
    pub fn parse(path: &Path, scheme: String, text: &str) -> Result<Taxonomy> {
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

    /// The vocabulary as JSON lines of `{id, label, description, examples}`, which `parse` reads
    /// back into the same labels (a trained topic model keeps its site vocabulary this way).
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for l in &self.labels {
            let v = serde_json::json!({
                "id": l.id, "label": l.label, "description": l.description, "examples": l.examples,
            });
            out.push_str(&v.to_string());
            out.push('\n');
        }
        out
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

/// Topics below this probability are not reported by default: more likely than not.
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// Options of the topic stage.
#[derive(Debug, Clone, Serialize)]
pub struct TopicOptions {
    /// At most this many topics per article, best first.
    pub top_k: usize,
    /// Topics whose probability is below this are not reported.
    pub threshold: f32,
    /// Calibration of the zero-shot evidence where no trained head serves (`head::ZERO_SHOT_PLATT`).
    pub zero_shot: head::Platt,
}

impl Default for TopicOptions {
    fn default() -> Self {
        TopicOptions {
            top_k: 3,
            threshold: DEFAULT_THRESHOLD,
            zero_shot: head::ZERO_SHOT_PLATT,
        }
    }
}

/// A topic assigned to an article: what lands in `lede.topics`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Topic {
    /// The label's id in the vocabulary.
    pub id: String,
    /// The label's name, in the article's language where the vocabulary has a translation.
    pub label: String,
    /// The calibrated probability that the topic applies (see `head`), rounded to 4 decimals.
    pub score: f64,
    /// The vocabulary it comes from (`Taxonomy::scheme`).
    pub scheme: String,
    /// Ids from the root, where the vocabulary is hierarchical.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<String>>,
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Scales `v` in place to unit (L2) length; a zero vector is left as it is.
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
/// vocabulary is a tree, and the language centres sentences and labels are taken from.
///
/// In a flat vocabulary (a site's own) both sides are centred (`centre::LanguageCentres`): a label
/// on the centre of the vocabulary's language, a sentence on its article's. A multilingual embedder
/// puts every text of a language near that language's centre, and a short label ("Sport",
/// "Polska") sits near it too: by raw cosine it is near every article of its language and wins
/// articles about anything (the "hub" problem of nearest-neighbour search). Centred, what is left
/// of each vector is what it is about. This replaced a correction by each label's similarity to a
/// set of reference texts, with better first topics for every wording of a site's vocabulary
/// (benches/QUALITY.md). IPTC's tree is read as embedded: the shipped head, retrained on centred
/// votes, was no more often right and was worse calibrated.
#[derive(Debug, Clone)]
pub struct LabelSpace {
    /// Each label's vector, L2-normalised (and centred, in a flat vocabulary).
    pub vecs: Vec<Vec<f32>>,
    /// Indices of each label's ancestors in the vocabulary (empty in a flat one).
    ancestors: Vec<Vec<usize>>,
    /// The centres sentences are taken from (`vote_shares`), where the labels were centred.
    centres: Option<centre::LanguageCentres>,
}

impl LabelSpace {
    /// `text_vecs[i]` embeds label i's text; `example_means[i]` is the normalised mean vector of its
    /// examples (from the vocabulary file or from articles tagged by hand), added with
    /// `example_weight`. `centring`: the embedder's language centres and the vocabulary's
    /// language, its labels' centre, for a flat vocabulary; `None` reads the vectors as embedded
    /// (IPTC's tree).
    pub fn new(
        taxonomy: &Taxonomy,
        text_vecs: Vec<Vec<f32>>,
        example_means: &[Option<Vec<f32>>],
        example_weight: f32,
        centring: Option<(&centre::LanguageCentres, &str)>,
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
                match centring {
                    Some((centres, language)) => centres.centre(&v, language),
                    None => v,
                }
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
            centres: centring.map(|(c, _)| c.clone()),
        }
    }
}

/// How sharply one sentence's vote goes to the labels it is nearest (a softmax temperature on
/// the cosine scale; e5's cosines between a sentence and the labels span a few hundredths).
/// Measured in benches/QUALITY.md: 0.005 to 0.02 score alike, 0.05 loses.
pub const VOTE_TEMPERATURE: f32 = 0.01;

/// [`VOTE_TEMPERATURE`] for centred vectors (a flat vocabulary, see `LabelSpace`): centred, a
/// sentence's cosines to the labels spread 3.5 to 5 times as wide (measured on the topic sets),
/// so the same sharpness needs a wider scale. 0.02 to 0.05 give alike first topics; 0.03 gave
/// the better calibrated scores across sets (benches/QUALITY.md).
pub const CENTRED_VOTE_TEMPERATURE: f32 = 0.03;

/// Each label's share of the article's sentence votes (0 to 1, summing to 1 over the labels), in
/// vocabulary order; all zero when no part has a vector. `parts` are the article's sentence vectors,
/// each with its weight (the title at `TITLE_WEIGHT`); zero vectors are skipped. `language` is the
/// article's: its sentences are centred on it (see `LabelSpace`).
///
/// Each sentence votes: a softmax over the labels of its scores, so a sentence gives most of its
/// weight to the labels it is nearest. A label's share is the part of the article that is about
/// it. An article about two things gives both a share, where the mean of its sentences sits
/// between them and near neither; measured in benches/QUALITY.md. A sentence's score for a label
/// is its cosine to the label (both centred, in a flat vocabulary); in a tree
/// (IPTC) it is the mean of the cosines along the label's path from the top, so a narrow label
/// wins only inside a branch that fits. Without that, narrow labels whose text happens to sit near
/// everything ("leisure", "retirement") won unrelated articles.
pub fn vote_shares(parts: &[(&[f32], f32)], language: &str, space: &LabelSpace) -> Vec<f32> {
    let n = space.vecs.len();
    let mut shares = vec![0f32; n];
    let mut total = 0f32;
    let mut cosines = vec![0f32; n];
    let mut scores = vec![0f32; n];
    let temperature = if space.centres.is_some() {
        CENTRED_VOTE_TEMPERATURE
    } else {
        VOTE_TEMPERATURE
    };
    for &(part, weight) in parts {
        if weight <= 0.0 || part.iter().all(|x| *x == 0.0) {
            continue;
        }
        let centred = space.centres.as_ref().map(|c| c.centre(part, language));
        let part = centred.as_deref().unwrap_or(part);
        for (c, v) in cosines.iter_mut().zip(&space.vecs) {
            *c = dot(part, v);
        }
        for ((s, above), c) in scores.iter_mut().zip(&space.ancestors).zip(&cosines) {
            let sum: f32 = c + above.iter().map(|&a| cosines[a]).sum::<f32>();
            *s = sum / (1 + above.len()) as f32;
        }
        let top = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut z = 0f32;
        for s in scores.iter_mut() {
            *s = ((*s - top) / temperature).exp();
            z += *s;
        }
        for (share, s) in shares.iter_mut().zip(&scores) {
            *share += weight * s / z;
        }
        total += weight;
    }
    if total > 0.0 {
        shares.iter_mut().for_each(|s| *s /= total);
    }
    shares
}

/// Indices of the vocabulary's top-level labels (every label of a flat vocabulary): the subjects
/// a topic head decides between first.
pub fn top_level(taxonomy: &Taxonomy) -> Vec<usize> {
    (0..taxonomy.labels.len())
        .filter(|&i| taxonomy.labels[i].path.len() <= 1)
        .collect()
}

/// Each top-level subject's vote share with everything under it: the evidence for the branch.
pub fn branch_shares(taxonomy: &Taxonomy, shares: &[f32]) -> Vec<f32> {
    let roots = top_level(taxonomy);
    let index: HashMap<&str, usize> = roots
        .iter()
        .enumerate()
        .map(|(k, &i)| (taxonomy.labels[i].id.as_str(), k))
        .collect();
    let mut out = vec![0f32; roots.len()];
    for (l, s) in taxonomy.labels.iter().zip(shares) {
        if let Some(&k) = l.path.first().and_then(|r| index.get(r.as_str())) {
            out[k] += s;
        }
    }
    out
}

/// Every label's probability that it applies to the article. The top level's come from the head
/// (`x` is the article vector, `evidence` the top-level subjects' `branch_shares` over the
/// vocabulary the head learnt from, `text` the article's title and body for a head that reads its
/// words, as parts, `language` the article's); a narrower label's is its branch's probability
/// times its part of the branch's votes (`shares` from `vote_shares` over `taxonomy`), so a
/// broader subject is always at least as likely as any narrower one under it, and the choice
/// descends only while the evidence holds.
pub fn probabilities(
    taxonomy: &Taxonomy,
    shares: &[f32],
    evidence: &[f32],
    x: &[f32],
    text: &[&str],
    language: &str,
    head: &head::HeadWeights,
) -> Vec<f32> {
    let branches = branch_shares(taxonomy, shares);
    let top = head.probabilities_for(x, evidence, text, language);
    let roots: HashMap<&str, usize> = top_level(taxonomy)
        .into_iter()
        .enumerate()
        .map(|(k, i)| (taxonomy.labels[i].id.as_str(), k))
        .collect();
    taxonomy
        .labels
        .iter()
        .zip(shares)
        .map(|(l, s)| {
            let Some(&k) = l.path.first().and_then(|r| roots.get(r.as_str())) else {
                return 0.0;
            };
            if l.path.len() <= 1 {
                top[k]
            } else if branches[k] > 0.0 {
                top[k] * s / branches[k]
            } else {
                0.0
            }
        })
        .collect()
}

/// What the topic stage found for one article.
#[derive(Debug, Clone, PartialEq)]
pub struct Assigned {
    /// Topics at or above the threshold, best first (ties: the label listed first), at most `top_k`.
    pub topics: Vec<Topic>,
    /// The best topic when none cleared the threshold (for `topics_reason`).
    pub best_below: Option<Topic>,
}

/// Topics for one article from its labels' probabilities (`probabilities`).
pub fn assign(
    probabilities: &[f32],
    taxonomy: &Taxonomy,
    language: &str,
    options: &TopicOptions,
) -> Assigned {
    let mut scored: Vec<(usize, f32)> = probabilities.iter().copied().enumerate().collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let topic = |(i, s): (usize, f32)| {
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
    };
    let topics: Vec<Topic> = scored
        .iter()
        .copied()
        .filter(|(_, s)| *s >= options.threshold && *s > 0.0)
        .take(options.top_k)
        .map(topic)
        .collect();
    let best_below = if topics.is_empty() {
        scored.first().copied().map(topic)
    } else {
        None
    };
    Assigned { topics, best_below }
}

#[cfg(test)]
mod tests;
