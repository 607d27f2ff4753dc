//! Calibrated topic probabilities: a topic head turns an article's vote shares (`vote_shares`) and
//! its vector into one probability per subject that the subject applies.
//!
//! A head is a linear layer over the article vector plus the zero-shot evidence, per embedder:
//! `logit = prior · ln(share + SHARE_FLOOR) + w · x + b`, then Platt scaling,
//! `p = sigmoid(a · logit + c)`. Without training (`w = 0`, `b = 0`, `prior = 1`) it is the
//! zero-shot method with calibrated scores; `lede learn` (see `learn`) fits `w`, `b` and `prior` on
//! tagged articles and `a`, `c` on their held-out predictions. Each subject gets its own
//! probability (multi-label): an article can be about two things, or about none of them.
use super::centre::LanguageCentres;
use super::lexical::{Lexicon, GRAM};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Added to a vote share before its logarithm: shares run from about 1e-6 to 1, and a share
/// below this is no evidence at all.
pub const SHARE_FLOOR: f32 = 1e-3;

/// Platt scaling of the zero-shot evidence and its margin, `p = sigmoid(a · z + margin · (z -
/// z_best_other) + c)` with `z = ln(share + SHARE_FLOOR)`, for a vocabulary without a trained head.
/// The margin is what tells a sure article from a torn one: a share of 0.6 is sure against 0.1 and
/// not against 0.4, and one slope on the share alone cannot know how many labels share the votes
/// (expected calibration error on a held-out topic set 0.075-0.135 with the share alone, 0.045-0.098
/// with the margin). Fitted on the topic sets' dev halves with the set's own class names (centred
/// votes, `topics::LabelSpace`) and checked across sets (benches/calibrate_topics.py prints them;
/// the check, fitted on three sets and measured on the fourth, is in benches/QUALITY.md).
pub const ZERO_SHOT_PLATT: Platt = Platt {
    a: 0.547,
    c: 0.216,
    margin: 1.462,
};

/// `p = sigmoid(a · logit + margin · (logit - best other logit) + c)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    /// Slope.
    pub a: f32,
    /// Offset.
    pub c: f32,
    /// Slope of the logit's lead over the best other subject's ([`margins`]): 0 in model folders
    /// written before it was fitted (2026-12-05), which read as before.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub margin: f32,
}

fn is_zero(x: &f32) -> bool {
    *x == 0.0
}

impl Platt {
    /// Scaling of the logit alone.
    pub const fn new(a: f32, c: f32) -> Platt {
        Platt { a, c, margin: 0.0 }
    }

    /// The probability of each of an article's logits, beside the others.
    pub fn probabilities(&self, logits: &[f32]) -> Vec<f32> {
        logits
            .iter()
            .zip(margins(logits))
            .map(|(&z, m)| sigmoid(self.a * z + self.margin * m + self.c))
            .collect()
    }
}

/// Each logit's lead over the best of the others: positive for a clear first, negative for the
/// rest, 0 for a tie for first and for a lone subject (no rival).
pub fn margins(logits: &[f32]) -> Vec<f32> {
    // The two largest: each logit's best other is the first, the first's is the second.
    let (mut first, mut second) = (f32::NEG_INFINITY, f32::NEG_INFINITY);
    for &z in logits {
        if z > first {
            second = first;
            first = z;
        } else if z > second {
            second = z;
        }
    }
    logits
        .iter()
        .map(|&z| {
            let best_other = if z == first { second } else { first };
            if best_other.is_finite() {
                z - best_other
            } else {
                0.0
            }
        })
        .collect()
}

/// An article's probabilities from a head that reads its words (`with_words`) blended with those
/// of the head without them (`without`), for the languages whose words a head reads beside a head
/// for the others ([`LexicalWeights::other_languages`]): their mean. Words learnt from news lift
/// news like it and mislead on other writing; measured on the shipped IPTC head, the words alone
/// took BBC from 69.4 to 82.6 % and the seed's analysis piece from 0.90 to 0.46 on its right
/// subject, the blend 78.5 % and 0.68 (benches/QUALITY.md).
pub fn blend(with_words: &[f32], without: &[f32]) -> Vec<f32> {
    with_words
        .iter()
        .zip(without)
        .map(|(p, q)| (p + q) / 2.0)
        .collect()
}

pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// One embedder's head: weights over its vectors for every subject of the head's vocabulary level.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadWeights {
    /// Length of the embedder's vectors.
    pub dim: usize,
    /// `labels × dim`, row-major: each subject's weights over the article vector.
    pub w: Vec<f32>,
    /// Each subject's bias.
    pub b: Vec<f32>,
    /// Weight of the zero-shot evidence, `ln(share + SHARE_FLOOR)`.
    pub prior: f32,
    /// Calibration of the logits.
    pub platt: Platt,
    /// Weights over the article's character grams, where training found they pay.
    pub lexical: Option<LexicalWeights>,
    /// The language centres the article vector is taken from before the head reads it (a head
    /// trained on centred vectors; none: it reads the vector as it is).
    pub centres: Option<LanguageCentres>,
}

/// A head's weights over an article's character grams (`lexical`): the surface evidence beside
/// the article vector.
#[derive(Debug, Clone, PartialEq)]
pub struct LexicalWeights {
    /// The grams read and their inverse document frequencies.
    pub lexicon: Lexicon,
    /// `grams × labels`, row-major: each gram's weight for every subject.
    pub w: Vec<f32>,
    /// The article languages whose grams are read (empty: every language). Grams that help one
    /// language can mislead in another (English news grams sent German news to politics:
    /// benches/QUALITY.md).
    pub languages: Vec<String>,
    /// The head for articles in the other languages: trained without grams. (Not the same weights
    /// with the grams left out: trained beside the grams, the vector part leans on them, and it
    /// alone did worse on German and Polish news than a head trained without them.)
    pub other_languages: Option<Box<HeadWeights>>,
}

impl LexicalWeights {
    /// Whether the grams of an article in `language` are read.
    pub fn reads(&self, language: &str) -> bool {
        reads_language(&self.languages, language)
    }
}

/// Whether words are read for an article in `language` when they are read for `languages` (none
/// listed: every language).
pub fn reads_language(languages: &[String], language: &str) -> bool {
    languages.is_empty() || languages.iter().any(|l| l == language)
}

impl HeadWeights {
    /// The untrained head: the zero-shot evidence alone, calibrated by `platt`.
    pub fn zero_shot(labels: usize, dim: usize, platt: Platt) -> HeadWeights {
        HeadWeights {
            dim,
            w: vec![0.0; labels * dim],
            b: vec![0.0; labels],
            prior: 1.0,
            platt,
            lexical: None,
            centres: None,
        }
    }

    /// Each subject's calibrated probability for an article in `language` (its vector `x`, vote
    /// shares, and text parts for a head that reads words): from this head, or the head for the
    /// other languages, or for a language whose words are read beside such a head the blend of
    /// both ([`blend`]); the vector taken from its language's centre first where the head was
    /// trained so.
    pub fn probabilities_for(
        &self,
        x: &[f32],
        shares: &[f32],
        text: &[&str],
        language: &str,
    ) -> Vec<f32> {
        let centred = self.centres.as_ref().map(|c| c.centre(x, language));
        let x = centred.as_deref().unwrap_or(x);
        let head = self.for_language(language);
        let p = head.probabilities(x, shares, &head.grams(text, language));
        match head
            .lexical
            .as_ref()
            .and_then(|l| l.other_languages.as_deref())
        {
            Some(other) => blend(&p, &other.probabilities(x, shares, &[])),
            None => p,
        }
    }

    /// The head that scores an article in `language`: this one, or the head trained without grams
    /// for the languages whose grams it does not read.
    pub fn for_language(&self, language: &str) -> &HeadWeights {
        match &self.lexical {
            Some(l) if !l.reads(language) => l.other_languages.as_deref().unwrap_or(self),
            _ => self,
        }
    }

    /// The gram features of the article's text parts (title, body) as this head reads them for an
    /// article in `language` (none without lexical weights, or for a language they are not for).
    pub fn grams(&self, parts: &[&str], language: &str) -> Vec<(u32, f32)> {
        match &self.lexical {
            Some(l) if l.reads(language) => l.lexicon.features(parts),
            _ => Vec::new(),
        }
    }

    /// Uncalibrated scores: `x` is the article vector, `shares` each subject's vote share, `grams`
    /// its features from [`HeadWeights::grams`].
    pub fn logits(&self, x: &[f32], shares: &[f32], grams: &[(u32, f32)]) -> Vec<f32> {
        let labels = shares.len();
        let mut surface = vec![0f32; labels];
        if let Some(l) = &self.lexical {
            for &(g, v) in grams {
                let row = &l.w[g as usize * labels..(g as usize + 1) * labels];
                for (s, w) in surface.iter_mut().zip(row) {
                    *s += v * w;
                }
            }
        }
        shares
            .iter()
            .enumerate()
            .map(|(l, s)| {
                let row = &self.w[l * self.dim..(l + 1) * self.dim];
                let wx: f32 = row.iter().zip(x).map(|(w, x)| w * x).sum();
                self.prior * (s + SHARE_FLOOR).ln() + wx + surface[l] + self.b[l]
            })
            .collect()
    }

    /// Each subject's calibrated probability.
    pub fn probabilities(&self, x: &[f32], shares: &[f32], grams: &[(u32, f32)]) -> Vec<f32> {
        self.platt.probabilities(&self.logits(x, shares, grams))
    }
}

/// Format of a topic model folder; a folder of another format is refused.
pub const MODEL_FORMAT: &str = "lede-topic-model/1";

/// The file in a topic model folder that describes it.
pub const MODEL_FILE: &str = "model.json";

/// What `model.json` says: everything needed to use the weights, and to refuse them where they
/// do not fit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelCard {
    /// [`MODEL_FORMAT`].
    pub format: String,
    /// The lede version that trained it.
    pub lede: String,
    /// The method revision of the features it was trained on (`run::pipeline::METHOD_REVISION`).
    pub method_revision: u32,
    /// The vocabulary's scheme (`iptc-mediatopic` or a site's file name).
    pub scheme: String,
    /// `Taxonomy::hash` of the vocabulary it was trained for.
    pub vocabulary_hash: String,
    /// The vocabulary as JSON lines, in the folder (absent for IPTC, which lede ships).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vocabulary_file: Option<String>,
    /// `--topic-depth` of the vocabulary (IPTC).
    pub depth: usize,
    /// The subjects the head scores, in weight order (the vocabulary's top level).
    pub labels: Vec<String>,
    /// One head per embedder id (`name@sha256:…`).
    pub embedders: BTreeMap<String, EmbedderHead>,
    /// The training options.
    pub options: serde_json::Value,
    /// Tagged articles trained on, and their fingerprint.
    pub training: serde_json::Value,
    /// Labels of a site's vocabulary anchored to IPTC subjects when it was trained (label id ->
    /// `medtop:…@lang`, `topics::anchor`); absent when none was.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub anchors: BTreeMap<String, String>,
    /// SHA-256 of every other file in the folder.
    pub files: BTreeMap<String, String>,
}

/// One embedder's head in `model.json`; its weights live in `weights`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmbedderHead {
    /// The weights file: `labels × dim` little-endian f32, then `labels` biases, then (with a
    /// lexicon) `grams × labels` gram weights.
    pub weights: String,
    /// The lexicon file (JSON: `gram`, `grams`, `idf`) of a head that reads character grams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lexicon: Option<String>,
    /// The languages whose articles' grams are read ([`LexicalWeights::languages`]; absent:
    /// every language).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gram_languages: Vec<String>,
    /// The head, without grams, for articles in the other languages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_languages: Option<Box<EmbedderHead>>,
    /// The language centres file (JSON, [`LanguageCentres`]) of a head trained on centred
    /// article vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub centres: Option<String>,
    /// Length of the embedder's vectors.
    pub dim: usize,
    /// Weight of the zero-shot evidence.
    pub prior: f32,
    /// Calibration of the logits.
    pub platt: Platt,
}

#[derive(Serialize, Deserialize)]
struct LexiconFile {
    gram: usize,
    grams: Vec<String>,
    idf: Vec<f32>,
}

fn write_lexicon(l: &Lexicon) -> Vec<u8> {
    let mut json = serde_json::to_vec(&LexiconFile {
        gram: GRAM,
        grams: l.grams.clone(),
        idf: l.idf.clone(),
    })
    .expect("a lexicon serialises");
    json.push(b'\n');
    json
}

fn read_lexicon(bytes: &[u8]) -> std::result::Result<Lexicon, String> {
    let f: LexiconFile =
        serde_json::from_slice(bytes).map_err(|e| format!("not a lexicon: {e}"))?;
    if f.gram != GRAM {
        return Err(format!(
            "grams of {} characters, this lede reads {GRAM}",
            f.gram
        ));
    }
    if f.grams.len() != f.idf.len() {
        return Err(format!(
            "{} grams but {} weights",
            f.grams.len(),
            f.idf.len()
        ));
    }
    Ok(Lexicon::new(f.grams, f.idf))
}

/// One head's weights from the folder's files (`data`, checked), for `n` labels.
fn read_head(
    dir: &Path,
    h: &EmbedderHead,
    n: usize,
    data: &BTreeMap<String, Vec<u8>>,
) -> Result<HeadWeights> {
    let Some(bytes) = data.get(&h.weights) else {
        return Err(bad_model(dir, format!("{} has no checksum", h.weights)));
    };
    let lexicon = match &h.lexicon {
        Some(file) => {
            let Some(text) = data.get(file) else {
                return Err(bad_model(dir, format!("{file} has no checksum")));
            };
            Some(read_lexicon(text).map_err(|e| bad_model(dir, format!("{file}: {e}")))?)
        }
        None => None,
    };
    let grams = lexicon.as_ref().map_or(0, Lexicon::len);
    let expected = 4 * (n * h.dim + n + grams * n);
    if bytes.len() != expected {
        return Err(bad_model(
            dir,
            format!(
                "{} holds {} bytes, expected {expected} for {n} labels of dimension {} and {grams} grams",
                h.weights,
                bytes.len(),
                h.dim
            ),
        ));
    }
    let other_languages = match (&lexicon, &h.other_languages) {
        (Some(_), Some(other)) => Some(Box::new(read_head(dir, other, n, data)?)),
        (None, Some(_)) => {
            return Err(bad_model(
                dir,
                format!("{}: a head for other languages, but no grams", h.weights),
            ))
        }
        _ => None,
    };
    let centres = match &h.centres {
        Some(file) => {
            let Some(text) = data.get(file) else {
                return Err(bad_model(dir, format!("{file} has no checksum")));
            };
            let c: LanguageCentres = serde_json::from_slice(text)
                .map_err(|e| bad_model(dir, format!("{file}: not language centres: {e}")))?;
            if let Some((l, v)) = c
                .languages
                .iter()
                .chain([(&String::from("other"), &c.other)])
                .find(|(_, v)| v.len() != h.dim)
            {
                return Err(bad_model(
                    dir,
                    format!(
                        "{file}: the centre of {l:?} has {} values, the head's vectors {}",
                        v.len(),
                        h.dim
                    ),
                ));
            }
            Some(c)
        }
        None => None,
    };
    let floats: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let (w, rest) = floats.split_at(n * h.dim);
    let (b, lex) = rest.split_at(n);
    Ok(HeadWeights {
        dim: h.dim,
        w: w.to_vec(),
        b: b.to_vec(),
        prior: h.prior,
        platt: h.platt,
        lexical: lexicon.map(|lexicon| LexicalWeights {
            lexicon,
            w: lex.to_vec(),
            languages: h.gram_languages.clone(),
            other_languages,
        }),
        centres,
    })
}

/// A head's files (weights, lexicon, and those of its head for other languages), named after
/// `stem`, added to `files`; what `model.json` says of it.
fn write_head(stem: &str, h: &HeadWeights, files: &mut Vec<(String, Vec<u8>)>) -> EmbedderHead {
    let file = format!("weights-{stem}.bin");
    let lex: &[f32] = h.lexical.as_ref().map_or(&[], |l| &l.w);
    let mut bytes = Vec::with_capacity(4 * (h.w.len() + h.b.len() + lex.len()));
    for x in h.w.iter().chain(&h.b).chain(lex) {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    files.push((file.clone(), bytes));
    let lexicon = h.lexical.as_ref().map(|l| {
        let name = format!("lexicon-{stem}.json");
        files.push((name.clone(), write_lexicon(&l.lexicon)));
        name
    });
    let centres = h.centres.as_ref().map(|c| {
        let name = format!("centres-{stem}.json");
        let mut json = serde_json::to_vec(c).expect("centres serialise");
        json.push(b'\n');
        files.push((name.clone(), json));
        name
    });
    let (gram_languages, other) = match &h.lexical {
        Some(l) => (l.languages.clone(), l.other_languages.as_deref()),
        None => (Vec::new(), None),
    };
    EmbedderHead {
        weights: file,
        lexicon,
        gram_languages,
        other_languages: other.map(|o| Box::new(write_head(&format!("{stem}-other"), o, files))),
        centres,
        dim: h.dim,
        prior: h.prior,
        platt: h.platt,
    }
}

/// A trained topic head, loaded from its folder.
#[derive(Debug, Clone)]
pub struct TopicModel {
    /// Where it was loaded from.
    pub dir: PathBuf,
    /// `model.json`.
    pub card: ModelCard,
    /// `<folder name>@sha256:<first 12 hex of model.json>`: named in provenance, part of the config
    /// fingerprint, so a retrained model re-enriches what it changes.
    pub id: String,
    /// Weights per embedder id.
    pub heads: BTreeMap<String, HeadWeights>,
    /// The text of the site vocabulary kept in the folder (`card.vocabulary_file`).
    pub vocabulary: Option<String>,
    /// Shipped inside lede: used for the embedders it has heads for, zero-shot for others
    /// (a folder the user names must fit every embedder of the run).
    pub built_in: bool,
}

/// The files of the shipped IPTC head, built into the binary (checked against `model.json`'s
/// checksums when loaded, like any model folder).
const SHIPPED_IPTC: &[(&str, &[u8])] = &[
    (
        MODEL_FILE,
        include_bytes!("../../../models/iptc/iptc-top/model.json"),
    ),
    (
        "metrics.json",
        include_bytes!("../../../models/iptc/iptc-top/metrics.json"),
    ),
    (
        "weights-0.bin",
        include_bytes!("../../../models/iptc/iptc-top/weights-0.bin"),
    ),
    (
        "lexicon-0.json",
        include_bytes!("../../../models/iptc/iptc-top/lexicon-0.json"),
    ),
    (
        "weights-0-other.bin",
        include_bytes!("../../../models/iptc/iptc-top/weights-0-other.bin"),
    ),
    (
        "centres-0.json",
        include_bytes!("../../../models/iptc/iptc-top/centres-0.json"),
    ),
];

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn bad_model(dir: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Config(format!("topic model {}: {reason}", dir.display()))
}

impl TopicModel {
    /// Loads a model folder, checking its format, method revision and every file's checksum.
    pub fn load(dir: &Path) -> Result<TopicModel> {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "topic-model".into());
        Self::from_files(dir, &name, &|file: &str| {
            let path = dir.join(file);
            std::fs::read(&path).map_err(|e| Error::io(&path, e))
        })
    }

    /// The IPTC top-level head shipped inside lede (`models/iptc/iptc-top`, trained by
    /// `scripts/train-iptc-head` on labelled news other than the topic benchmarks).
    pub fn shipped_iptc() -> Option<TopicModel> {
        Self::try_shipped_iptc().expect("the shipped IPTC head loads (checked by tests)")
    }

    /// [`shipped_iptc`](Self::shipped_iptc), with the error of a head this lede cannot read (one
    /// trained by an earlier method revision, while `scripts/train-iptc-head` retrains it).
    pub fn try_shipped_iptc() -> Result<Option<TopicModel>> {
        let files: &[(&str, &[u8])] = SHIPPED_IPTC;
        if files.is_empty() {
            return Ok(None);
        }
        let read = |file: &str| {
            files
                .iter()
                .find(|(n, _)| *n == file)
                .map(|(_, b)| b.to_vec())
                .ok_or_else(|| Error::Config(format!("built-in IPTC head has no {file}")))
        };
        let mut model = Self::from_files(Path::new("models/iptc/iptc-top"), "iptc-top", &read)?;
        model.built_in = true;
        Ok(Some(model))
    }

    fn from_files(
        dir: &Path,
        name: &str,
        read: &dyn Fn(&str) -> Result<Vec<u8>>,
    ) -> Result<TopicModel> {
        let bytes = read(MODEL_FILE)?;
        let card: ModelCard = serde_json::from_slice(&bytes)
            .map_err(|e| bad_model(dir, format!("{MODEL_FILE} is not a topic model card: {e}")))?;
        if card.format != MODEL_FORMAT {
            return Err(bad_model(
                dir,
                format!(
                    "format {:?}, this lede reads {MODEL_FORMAT:?}; retrain it with `lede learn`",
                    card.format
                ),
            ));
        }
        if card.method_revision != crate::run::pipeline::METHOD_REVISION {
            return Err(bad_model(
                dir,
                format!(
                    "trained by lede {} on features of method revision {}, this lede computes revision {}; retrain it with `lede learn`",
                    card.lede,
                    card.method_revision,
                    crate::run::pipeline::METHOD_REVISION
                ),
            ));
        }
        let mut data = BTreeMap::new();
        for (file, sum) in &card.files {
            let bytes = read(file)?;
            if &sha256_hex(&bytes) != sum {
                return Err(bad_model(
                    dir,
                    format!(
                        "{file} does not match its checksum in {MODEL_FILE} (damaged or edited)"
                    ),
                ));
            }
            data.insert(file.clone(), bytes);
        }
        let n = card.labels.len();
        let mut heads = BTreeMap::new();
        for (embedder, h) in &card.embedders {
            heads.insert(embedder.clone(), read_head(dir, h, n, &data)?);
        }
        Ok(TopicModel {
            dir: dir.to_path_buf(),
            id: format!("{name}@sha256:{}", &sha256_hex(&bytes)[..12]),
            heads,
            vocabulary: card
                .vocabulary_file
                .as_ref()
                .and_then(|f| data.get(f))
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            card,
            built_in: false,
        })
    }

    /// The vocabulary the model was trained for: IPTC at its depth, or the site's vocabulary kept
    /// in the folder.
    pub fn taxonomy(&self) -> Result<super::Taxonomy> {
        match (&self.card.vocabulary_file, &self.vocabulary) {
            (Some(file), Some(text)) => {
                super::Taxonomy::parse(&self.dir.join(file), self.card.scheme.clone(), text)
            }
            (Some(file), None) => Err(bad_model(&self.dir, format!("{file} is missing"))),
            _ => Ok(super::Taxonomy::iptc(self.card.depth)),
        }
    }

    /// Writes a model folder: into a temporary sibling first, renamed into place when complete,
    /// so a failed or interrupted run leaves no half-written model. `files` are the folder's
    /// other files (name, bytes); the weights files are written from `heads`.
    pub fn write(
        dir: &Path,
        mut card: ModelCard,
        heads: &BTreeMap<String, HeadWeights>,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<()> {
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        let name = dir
            .file_name()
            .ok_or_else(|| bad_model(dir, "needs a folder name"))?
            .to_string_lossy();
        let tmp = parent.join(format!(".{name}.tmp{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut all = files;
        card.embedders.clear();
        for (i, (embedder, h)) in heads.iter().enumerate() {
            let head = write_head(&i.to_string(), h, &mut all);
            card.embedders.insert(embedder.clone(), head);
        }
        card.files = all
            .iter()
            .map(|(n, b)| (n.clone(), sha256_hex(b)))
            .collect();
        for (n, b) in &all {
            let path = tmp.join(n);
            std::fs::write(&path, b).map_err(|e| Error::io(&path, e))?;
        }
        let mut json = serde_json::to_vec_pretty(&card).expect("model card serialises");
        json.push(b'\n');
        let path = tmp.join(MODEL_FILE);
        std::fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        std::fs::rename(&tmp, dir).map_err(|e| Error::io(dir, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> ModelCard {
        ModelCard {
            format: MODEL_FORMAT.into(),
            lede: "test".into(),
            method_revision: crate::run::pipeline::METHOD_REVISION,
            scheme: "site".into(),
            vocabulary_hash: "sha256:x".into(),
            vocabulary_file: Some("site.jsonl".into()),
            depth: 1,
            labels: vec!["a".into(), "b".into()],
            embedders: BTreeMap::new(),
            options: serde_json::json!({}),
            training: serde_json::json!({}),
            anchors: BTreeMap::new(),
            files: BTreeMap::new(),
        }
    }

    fn heads() -> BTreeMap<String, HeadWeights> {
        let mut h = HeadWeights::zero_shot(2, 3, Platt::new(2.0, -1.0));
        h.w[4] = 0.5;
        h.b[1] = -0.25;
        BTreeMap::from([("e5@sha256:abc".to_string(), h)])
    }

    #[test]
    fn the_zero_shot_calibration_is_surer_of_a_clear_winner_than_of_a_close_race() {
        let head = HeadWeights::zero_shot(3, 2, ZERO_SHOT_PLATT);
        let x = [0.0, 0.0];
        let clear = head.probabilities(&x, &[0.6, 0.1, 0.3], &[]);
        let close = head.probabilities(&x, &[0.6, 0.0, 0.4], &[]);
        // The same share is worth more against a weak runner-up, and the runner-up of a close
        // race is likelier than a distant third.
        assert!(clear[0] > close[0] + 0.05, "{clear:?} {close:?}");
        assert!(close[2] > clear[2], "{clear:?} {close:?}");
        // Within an article the order of the shares is kept.
        assert!(clear[0] > clear[2] && clear[2] > clear[1]);
        // A tie for first: neither leads, and neither is sure.
        let tie = head.probabilities(&x, &[0.45, 0.45, 0.1], &[]);
        assert_eq!(tie[0], tie[1]);
        assert!(tie[0] < 0.6 && tie[0] < clear[0], "{tie:?}");
        // A lone subject has no rival to lead.
        let lone = HeadWeights::zero_shot(1, 2, ZERO_SHOT_PLATT).probabilities(&x, &[1.0], &[]);
        assert!(lone[0] > 0.5, "{lone:?}");
    }

    #[test]
    fn a_scaling_without_margin_is_written_as_before() {
        let json = serde_json::to_string(&Platt::new(2.0, -1.0)).unwrap();
        assert_eq!(json, r#"{"a":2.0,"c":-1.0}"#);
        let back: Platt = serde_json::from_str(&json).unwrap();
        assert_eq!(back.margin, 0.0);
    }

    #[test]
    fn the_shipped_iptc_head_loads_and_scores_the_top_level() {
        let m = TopicModel::shipped_iptc().expect("shipped");
        assert!(m.built_in && m.id.starts_with("iptc-top@sha256:"));
        assert_eq!(m.card.labels.len(), 17);
        assert_eq!(
            m.taxonomy().unwrap().labels.len(),
            super::super::Taxonomy::iptc(2).labels.len()
        );
        let (embedder, head) = m.heads.iter().next().unwrap();
        assert!(embedder.starts_with("multilingual-e5-small@"));
        // It reads the words of English articles; the others are scored by its head without them.
        assert!(head.lexical.is_some() && head.for_language("en") == head);
        assert!(head.for_language("pl").lexical.is_none());
    }

    #[test]
    fn a_head_that_reads_words_reads_them_back_from_its_folder() {
        let mut table = super::super::lexical::GramTable::default();
        table.add(&["Sejm uchwalił ustawę"]);
        table.add(&["Mecz w Krakowie"]);
        let (lexicon, _) = table.lexicon();
        let mut hs = heads();
        let h = hs.values_mut().next().unwrap();
        let mut w = vec![0.0; lexicon.len() * 2];
        let sej = lexicon.grams.iter().position(|g| g == " sej").unwrap();
        w[sej * 2] = 3.0;
        h.lexical = Some(LexicalWeights {
            lexicon,
            w,
            languages: vec!["pl".into()],
            other_languages: Some(Box::new(HeadWeights::zero_shot(2, 3, Platt::new(1.0, 0.5)))),
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site-topics");
        TopicModel::write(&path, card(), &hs, Vec::new()).unwrap();
        let m = TopicModel::load(&path).unwrap();
        assert_eq!(m.heads, hs);
        let h = m.heads.values().next().unwrap();
        let x = [0.0, 0.0, 0.0];
        let about_the_sejm = h.logits(&x, &[0.5, 0.5], &h.grams(&["Posłowie w Sejmie"], "pl"));
        let about_a_match = h.logits(&x, &[0.5, 0.5], &h.grams(&["Mecz"], "pl"));
        assert!(
            about_the_sejm[0] > about_a_match[0] + 0.5,
            "{about_the_sejm:?} {about_a_match:?}"
        );
        // Its grams are for Polish articles: an article in another language is scored by the
        // head for the other languages, kept beside it in the folder.
        assert!(h.grams(&["Posłowie w Sejmie"], "en").is_empty());
        assert_eq!(h.for_language("en").platt, Platt::new(1.0, 0.5));
        assert!(path.join("weights-0-other.bin").exists());
        assert!(std::fs::read_to_string(path.join(MODEL_FILE))
            .unwrap()
            .contains(r#""gram_languages": ["#));
        // A lexicon edited by hand no longer matches its checksum.
        std::fs::write(path.join("lexicon-0.json"), b"{}").unwrap();
        let err = TopicModel::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("lexicon-0.json does not match its checksum"),
            "{err}"
        );
    }

    #[test]
    fn a_head_trained_on_centred_vectors_reads_its_centres_back_and_centres_what_it_scores() {
        let centres = LanguageCentres {
            source: super::super::centre::SOURCE.into(),
            languages: BTreeMap::from([("de".to_string(), vec![0.0, 0.0, 0.6])]),
            other: vec![0.0, 0.0, 0.3],
        };
        let mut hs = heads();
        let h = hs.values_mut().next().unwrap();
        h.w[5] = 1.0;
        let plain = h.clone();
        h.centres = Some(centres);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m");
        TopicModel::write(&path, card(), &hs, Vec::new()).unwrap();
        assert!(path.join("centres-0.json").is_file());
        let m = TopicModel::load(&path).unwrap();
        assert_eq!(m.heads, hs);
        // The head weighs the third dimension for the second subject: a German article leaning
        // there as far as German articles do scores as an article in a language without a
        // centre that leans there only as far as the mean of the centres; read plainly, higher.
        let h = m.heads.values().next().unwrap();
        let shares = [0.5, 0.5];
        let de = h.probabilities_for(&[0.6, 0.0, 0.8], &shares, &[], "de");
        let cs = h.probabilities_for(&[0.6, 0.0, 0.5], &shares, &[], "cs");
        assert!((de[1] - cs[1]).abs() < 1e-6, "{de:?} {cs:?}");
        let plain = plain.probabilities_for(&[0.6, 0.0, 0.8], &shares, &[], "de");
        assert!(plain[1] > de[1] + 0.05, "{plain:?} {de:?}");
        // Centres of another length than the head's vectors are refused, by file.
        let json = std::fs::read_to_string(path.join("centres-0.json")).unwrap();
        let short: String = json.replacen("[0.0,0.0,0.6]", "[0.0,0.6]", 1);
        assert_ne!(json, short);
        std::fs::write(path.join("centres-0.json"), &short).unwrap();
        let mut card: ModelCard =
            serde_json::from_slice(&std::fs::read(path.join(MODEL_FILE)).unwrap()).unwrap();
        card.files
            .insert("centres-0.json".into(), sha256_hex(short.as_bytes()));
        std::fs::write(path.join(MODEL_FILE), serde_json::to_vec(&card).unwrap()).unwrap();
        let e = TopicModel::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("centres-0.json") && e.contains("\"de\" has 2 values"),
            "{e}"
        );
    }

    #[test]
    fn a_model_folder_reads_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site-topics");
        let vocab = b"{\"id\":\"a\",\"label\":\"A\"}\n{\"id\":\"b\",\"label\":\"B\"}\n".to_vec();
        TopicModel::write(
            &path,
            card(),
            &heads(),
            vec![("site.jsonl".into(), vocab.clone())],
        )
        .unwrap();
        let m = TopicModel::load(&path).unwrap();
        assert_eq!(m.heads, heads());
        assert!(m.id.starts_with("site-topics@sha256:"));
        assert_eq!(m.taxonomy().unwrap().labels.len(), 2);
        // Written again from the same inputs: the same bytes, the same id.
        TopicModel::write(&path, card(), &heads(), vec![("site.jsonl".into(), vocab)]).unwrap();
        assert_eq!(TopicModel::load(&path).unwrap().id, m.id);
        // No temporary folder is left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_damaged_or_foreign_model_folder_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m");
        TopicModel::write(
            &path,
            card(),
            &heads(),
            vec![("site.jsonl".into(), b"{}".to_vec())],
        )
        .unwrap();
        let mut bytes = std::fs::read(path.join("weights-0.bin")).unwrap();
        bytes[0] ^= 1;
        std::fs::write(path.join("weights-0.bin"), &bytes).unwrap();
        let e = TopicModel::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("weights-0.bin does not match its checksum"),
            "{e}"
        );
        let mut old = card();
        old.method_revision = 1;
        TopicModel::write(&path, old, &heads(), Vec::new()).unwrap();
        let e = TopicModel::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("method revision 1") && e.contains("retrain"),
            "{e}"
        );
        let e = TopicModel::load(&dir.path().join("none"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("model.json"), "{e}");
    }
}
