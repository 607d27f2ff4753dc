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
use std::collections::{BTreeMap, HashSet};
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
                        description: get("description").unwrap_or_default(),
                        examples,
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
        }
        format!("sha256:{}", hex::encode(h.finalize()))
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
    /// Cosine similarity, rounded to 4 decimals.
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

/// The vector that stands for each label: its text's embedding, moved towards the mean of its
/// examples (from the vocabulary file or from articles tagged by hand) when it has any.
pub fn label_vectors(
    text_vecs: Vec<Vec<f32>>,
    example_means: &[Option<Vec<f32>>],
    example_weight: f32,
) -> Vec<Vec<f32>> {
    text_vecs
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
        .collect()
}

/// Top topics for one article vector, best first; ties go to the label listed first.
pub fn assign(
    article: &[f32],
    taxonomy: &Taxonomy,
    label_vecs: &[Vec<f32>],
    language: &str,
    options: &TopicOptions,
) -> Vec<Topic> {
    let mut scored: Vec<(usize, f32)> = label_vecs
        .iter()
        .enumerate()
        .map(|(i, v)| (i, dot(article, v)))
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
        let vecs = vec![vec![1.0, 0.0], vec![0.6, 0.8]];
        let got = assign(
            &[0.0, 1.0],
            &t,
            &vecs,
            "en",
            &TopicOptions {
                top_k: 2,
                threshold: 0.5,
            },
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id, "y");
        assert_eq!(got[0].score, 0.8);
        assert_eq!(t.label_texts()[0], "X: d");
    }
}
