//! The enrichment pipeline: record in, the same record plus one `lede` object out.
//!
//! Records go through in chunks: a parallel CPU pass (parse, clean HTML, detect language, segment), one
//! model pass per embedder over every distinct text of the chunk (batched by token budget across
//! articles), then a parallel pass that scores and assembles each record. Output keeps input order.
//!
//! Over 800 lines on purpose: the chunk's three passes share private types (`Step`, `Pending`,
//! the chunk's vector index) that would otherwise have to be public across files.
use crate::formats::{lookup, to_article_within, Article, FieldMap, RawRecord};
use crate::model::embed::{Embedder, TextKind};
use crate::stages::keywords::{self, Candidate, KeywordOptions};
use crate::stages::language::{DetectedLanguage, LanguageDetector};
use crate::stages::segment::{split_sentences, Sentence};
use crate::stages::summary::abstractive::{AbstractiveOptions, AbstractiveSummarizer};
use crate::stages::summary::extractive::{self, ExtractiveOptions};
use crate::stages::summary::Summary;
use crate::stages::topics::centre::LanguageCentres;
use crate::stages::topics::head::{HeadWeights, ModelCard, TopicModel, MODEL_FORMAT};
use crate::stages::topics::learn::{self, LearnOptions};
use crate::stages::topics::{self, anchor, Taxonomy, TopicOptions};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// The tool and its version (`lede 0.x.y`), as written into provenance and fingerprints.
pub const TOOL: &str = concat!("lede ", env!("CARGO_PKG_VERSION"));

/// Raised whenever a change to the code (not to options) changes what comes out for the same
/// input, so that enrichments made by an older build are recomputed rather than skipped as current.
/// 2: topic scores averaged along the vocabulary's tree, flat vocabularies' labels corrected for
/// hubness, title weighted by topics::TITLE_WEIGHT. 3: topics scored by sentence votes, labels'
/// descriptions embedded facet by facet. 4: topic scores are calibrated probabilities (a topic
/// head over the vote shares and the article vector), reported from `--topic-threshold` up.
/// 5: sentences and labels compared centred on their languages (topics::LabelSpace), without the
/// hubness correction.
pub const METHOD_REVISION: u32 = 5;

/// Fewer prose words than this and an article is not tagged: a guess would be noise.
const MIN_WORDS_TO_TAG: usize = 8;

/// The topic stage's settings: the vocabulary and how many topics to report.
#[derive(Debug, Clone)]
pub struct TopicsConfig {
    /// The topic vocabulary.
    pub taxonomy: Arc<Taxonomy>,
    /// How many topics to report and how they are scored.
    pub options: TopicOptions,
    /// Weight of the mean of a label's examples against its own text.
    pub example_weight: f32,
    /// A trained topic head (`lede learn`, or the one shipped for IPTC); `None`: zero-shot with
    /// calibrated scores.
    pub model: Option<Arc<TopicModel>>,
    /// Bare tag names of a site's vocabulary borrow the description of the IPTC subject they name
    /// (`topics::anchor`); off by default (measured in benches/QUALITY.md).
    pub anchor_labels: bool,
}

/// Everything that decides what a record's enrichment contains.
#[derive(Debug, Clone)]
pub struct Options {
    /// Key of the object added to each record.
    pub output_key: String,
    /// Which fields hold the id, title and body.
    pub fields: FieldMap,
    /// `None`: no summary stage.
    pub summary: Option<ExtractiveOptions>,
    /// Abstractive models by language code (`*`: every language without its own); other languages
    /// get the extractive teaser. Needs the summary stage.
    pub abstractive: BTreeMap<String, Arc<AbstractiveSummarizer>>,
    /// `None`: no topic stage.
    pub topics: Option<TopicsConfig>,
    /// `None`: no keyword stage.
    pub keywords: Option<KeywordOptions>,
    /// Where label vectors are cached between runs (keyed by model and vocabulary); `None`: no cache.
    pub cache_dir: Option<std::path::PathBuf>,
    /// A body longer than this is an error for its record, not hours of model work.
    pub max_body_bytes: usize,
}

/// 4 MiB: a hundred long articles' worth; anything longer is a dump, not an article.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 << 20;

impl Default for Options {
    fn default() -> Self {
        Options {
            output_key: "lede".to_string(),
            fields: FieldMap::default(),
            summary: Some(ExtractiveOptions::default()),
            abstractive: BTreeMap::new(),
            topics: None,
            keywords: Some(KeywordOptions::default()),
            cache_dir: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// Which embedder serves which language: a default (multilingual) and per-language overrides.
#[derive(Clone)]
pub struct EmbedderRouter {
    /// The embedder for every language without its own.
    pub default: Arc<dyn Embedder>,
    /// Overrides by language code.
    pub by_language: BTreeMap<String, Arc<dyn Embedder>>,
}

impl EmbedderRouter {
    /// A router that sends every language to `default`.
    pub fn new(default: Arc<dyn Embedder>) -> Self {
        EmbedderRouter {
            default,
            by_language: BTreeMap::new(),
        }
    }

    /// The embedder for language `code`: its override, else the default.
    pub fn for_language(&self, code: &str) -> &Arc<dyn Embedder> {
        self.by_language.get(code).unwrap_or(&self.default)
    }

    /// Every distinct embedder, the default first.
    fn all(&self) -> Vec<&Arc<dyn Embedder>> {
        let mut out = vec![&self.default];
        for e in self.by_language.values() {
            if !out.iter().any(|o| o.id() == e.id()) {
                out.push(e);
            }
        }
        out
    }
}

/// Label vectors of the topic vocabulary, one set per embedder.
struct LabelIndex {
    text_vecs: HashMap<String, Vec<Vec<f32>>>,
    /// Each embedder's language centres (by `Embedder::id`), which a flat vocabulary's votes are
    /// taken from; none for IPTC's tree.
    centres: HashMap<String, LanguageCentres>,
    /// The vocabulary's language, whose centre its labels are taken from (empty for IPTC's tree).
    language: String,
    /// `Taxonomy::hash` of the vocabulary as the label vectors see it (with anchored labels'
    /// borrowed descriptions): what the config fingerprint names.
    vectors_hash: String,
    /// Each anchored label's id and what it borrowed (`medtop:…@lang`), `topics::anchor`.
    anchors: BTreeMap<String, String>,
    spaces: HashMap<String, topics::LabelSpace>,
    /// The trained head per embedder weights id (`Embedder::weights_id`); an embedder without one
    /// scores zero-shot.
    heads: HashMap<String, HeadWeights>,
    /// What the heads are (a model id, or the fingerprint of examples learnt from), for provenance
    /// and the config fingerprint; `zero-shot` when there are none.
    learned: String,
    /// Where the heads learnt at another IPTC depth than this run reports: the label spaces of
    /// theirs, whose vote shares they read (`Enricher::head_evidence`).
    head_evidence: Option<HeadEvidence>,
}

/// A trained head's own vocabulary (IPTC at the depth it learnt) and its label spaces per embedder.
struct HeadEvidence {
    taxonomy: Taxonomy,
    spaces: HashMap<String, topics::LabelSpace>,
}

/// Whether the keyword stage computes the learnt scorer's signals, word frequencies among them: to
/// explain them, or where the scorer scores some article (it reads only its own embedder's vectors).
pub(crate) fn needs_word_frequencies(
    k: &KeywordOptions,
    embedders: Option<&EmbedderRouter>,
) -> bool {
    let scores_some = match (&k.scorer, embedders) {
        (Some(scorer), Some(router)) => router.all().iter().any(|e| scorer.reads(e.as_ref())),
        _ => false,
    };
    k.explain || scores_some
}

/// Runs the pipeline over records: holds the options, the language detector, the embedders and
/// the topic vocabulary's label vectors.
pub struct Enricher {
    options: Options,
    detector: Box<dyn LanguageDetector>,
    embedders: Option<EmbedderRouter>,
    labels: Option<LabelIndex>,
    /// Config fingerprints by language code, computed on first use.
    config_hashes: Mutex<HashMap<String, String>>,
    /// Wall time per stage, for throughput reports.
    stage_seconds: Mutex<BTreeMap<&'static str, f64>>,
}

/// Result of one record: the value to write (when the record was an object) and its error, if any.
#[derive(Debug)]
pub struct Outcome {
    /// Where the record came from ([`Origin`](crate::formats::Origin) as text).
    pub origin: String,
    /// The article id, when the record was readable far enough to have one.
    pub id: Option<String>,
    /// The record with its enrichment object added; `None` when it was not a JSON object, or for a
    /// stale record under `--check`.
    pub output: Option<Value>,
    /// Why the record could not be read or enriched.
    pub error: Option<String>,
    /// The enrichment came from an earlier run (same content, same config) instead of the models.
    pub reused: bool,
    /// The enrichment differs from the one the record came in with (or it came in without one).
    pub changed: bool,
}

impl Outcome {
    fn unreadable(origin: String, error: String) -> Outcome {
        Outcome {
            origin,
            id: None,
            output: None,
            error: Some(error),
            reused: false,
            changed: false,
        }
    }
}

/// Earlier enrichments a run may reuse instead of recomputing: found by article id and content hash,
/// used only when their config fingerprint matches this run's.
pub trait EarlierEnrichments: Sync {
    /// The enrichment object earlier written for article `id`, if any; the caller checks that it is
    /// still current.
    fn find(&self, id: &str, content_hash: &str) -> Option<Map<String, Value>>;
}

/// Where `enrich_chunk` may look for work already done.
#[derive(Clone, Copy, Default)]
pub struct Reuse<'a> {
    /// The enrichment object a record already carries (from an earlier run over the same file).
    pub own: bool,
    /// Earlier outputs to search by article id and content hash; `None`: none.
    pub earlier: Option<&'a dyn EarlierEnrichments>,
}

impl Reuse<'_> {
    /// Recompute everything (`--force`).
    pub fn none() -> Reuse<'static> {
        Reuse::default()
    }
}

/// What `Enricher::train_topics` read from the tagged articles.
#[derive(Debug, Default, Clone)]
pub struct LearnReport {
    /// Tagged articles learnt from.
    pub articles: usize,
    /// Examples found per label id.
    pub examples_per_label: BTreeMap<String, usize>,
    /// Tags that are not in the vocabulary, with how often they appeared.
    pub unknown_tags: BTreeMap<String, usize>,
    /// Articles without tags (skipped).
    pub untagged: usize,
    /// Articles whose text repeats an earlier one (learnt once).
    pub duplicates: usize,
    /// Languages whose articles carry a tag far more or less often than the rest (also among
    /// `warnings`).
    pub language_skew: Vec<learn::LanguageSkew>,
    /// What the user should know, each naming the record (or tag) concerned.
    pub warnings: Vec<String>,
}

/// Topic heads trained on tagged articles (`Enricher::train_topics`).
#[derive(Debug, Clone)]
pub struct TrainedTopics {
    /// The subjects the heads score (the vocabulary's top-level ids).
    pub labels: Vec<String>,
    /// One head per embedder weights id (`Embedder::weights_id`: any arithmetic reads it).
    pub heads: BTreeMap<String, HeadWeights>,
    /// Cross-validated figures per embedder weights id: the learnt head beside the zero-shot method.
    pub metrics: BTreeMap<String, learn::Metrics>,
    /// What was read.
    pub report: LearnReport,
    /// Fingerprint of the tagged articles (content hashes and tags).
    pub fingerprint: String,
    /// The labels anchored to IPTC subjects while training (`topics::anchor`): the zero-shot
    /// evidence the heads learnt from.
    pub anchors: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct ConfigFingerprint<'a> {
    tool: &'a str,
    method_revision: u32,
    output_key: &'a str,
    id_fields: &'a [String],
    title_fields: &'a [String],
    text_fields: &'a [String],
    language: String,
    embedder: Option<String>,
    summary: &'a Option<ExtractiveOptions>,
    abstractive: Option<(String, &'a AbstractiveOptions)>,
    topics: Option<(String, &'a TopicOptions, f32, &'a str)>,
    keywords: &'a Option<KeywordOptions>,
    /// The word-class lexicon that judges this language's keywords: updating one language's
    /// lexicon recomputes that language's articles only.
    #[serde(skip_serializing_if = "Option::is_none")]
    word_classes: Option<&'a str>,
}

impl TrainedTopics {
    /// Writes the heads as a topic model folder (`topics::head`) that `enrich --topic-model DIR`
    /// uses: `model.json` (the embedders' ids, the vocabulary, options, training fingerprint,
    /// checksums), the weights, `metrics.json`, and a site vocabulary as JSON lines. Written into a
    /// temporary folder and renamed into place when complete.
    pub fn write(
        &self,
        dir: &std::path::Path,
        taxonomy: &Taxonomy,
        depth: usize,
        options: &LearnOptions,
    ) -> crate::Result<()> {
        let mut files = Vec::new();
        let vocabulary_file = (!taxonomy.hierarchical).then(|| {
            let name = format!("{}.jsonl", taxonomy.scheme);
            files.push((name.clone(), taxonomy.to_jsonl().into_bytes()));
            name
        });
        let metrics = serde_json::json!({
            "embedders": self.metrics,
            "articles": self.report.articles,
            "examples_per_label": self.report.examples_per_label,
            "unknown_tags": self.report.unknown_tags,
            "language_skew": self.report.language_skew,
        });
        let mut json = serde_json::to_vec_pretty(&metrics).expect("metrics serialise");
        json.push(b'\n');
        files.push(("metrics.json".into(), json));
        let card = ModelCard {
            format: MODEL_FORMAT.into(),
            lede: env!("CARGO_PKG_VERSION").into(),
            method_revision: METHOD_REVISION,
            scheme: taxonomy.scheme.clone(),
            vocabulary_hash: taxonomy.hash(),
            vocabulary_file,
            depth,
            labels: self.labels.clone(),
            embedders: BTreeMap::new(),
            options: serde_json::to_value(options).expect("options serialise"),
            training: serde_json::json!({
                "articles": self.report.articles,
                "fingerprint": self.fingerprint,
            }),
            anchors: self.anchors.clone(),
            files: BTreeMap::new(),
        };
        TopicModel::write(dir, card, &self.heads, files)
    }
}

/// A record after the CPU pass: finished already (unreadable, or reused from an earlier run), or
/// waiting for its model work.
enum Step {
    Done(Outcome),
    Pending(Prepared),
}

impl Step {
    fn pending(&self) -> Option<&Prepared> {
        match self {
            Step::Pending(p) => Some(p),
            Step::Done(_) => None,
        }
    }
}

/// A record waiting for its embeddings.
struct Prepared {
    origin: String,
    record: Map<String, Value>,
    /// The enrichment object the record came in with, if any.
    previous: Option<Value>,
    article: Result<Article, String>,
    language: DetectedLanguage,
    sentences: Vec<Sentence>,
    /// Keyword candidates, best cheap pre-rank first.
    candidates: Vec<Candidate>,
}

type Vectors = HashMap<(String, String), Vec<f32>>;

impl Enricher {
    /// `embedders` may be `None` only when no stage needs them.
    pub fn new(
        options: Options,
        detector: Box<dyn LanguageDetector>,
        embedders: Option<EmbedderRouter>,
    ) -> crate::Result<Self> {
        if !options.abstractive.is_empty() && options.summary.is_none() {
            return Err(crate::Error::Config(
                "abstractive models need the summary stage".into(),
            ));
        }
        if let Some(k) = &options.keywords {
            if needs_word_frequencies(k, embedders.as_ref()) && k.frequencies.is_none() {
                return Err(crate::Error::Config(
                    "the learnt keyword scorer needs word frequencies (KeywordOptions::frequencies: \
                     WordFrequencies::from_store; `lede models install wordfreq`)"
                        .into(),
                ));
            }
        }
        let needs_embedder =
            options.summary.is_some() || options.topics.is_some() || options.keywords.is_some();
        if needs_embedder && embedders.is_none() {
            return Err(crate::Error::Config(
                "the summary, topic and keyword stages need an embedder".into(),
            ));
        }
        let labels = match (&options.topics, &embedders) {
            (Some(t), Some(router)) => {
                // A site's bare tag names borrow the description of the IPTC subject they name:
                // the vocabulary as the label vectors see it.
                let (anchored, anchors) =
                    Self::anchor_labels(t, router, &*detector, options.cache_dir.as_deref())?;
                let seen = anchored.as_ref().unwrap_or(&t.taxonomy);
                let text_vecs = Self::label_vectors(seen, router, options.cache_dir.as_deref())?;
                // A flat vocabulary's sentences and labels are compared centred on their
                // languages (topics::LabelSpace): the labels on the vocabulary's, detected from
                // their texts. IPTC's tree is read as embedded (the shipped head, retrained on
                // centred votes, was worse calibrated: benches/QUALITY.md).
                let (centres, language) = if t.taxonomy.hierarchical {
                    (HashMap::new(), String::new())
                } else {
                    (
                        Self::vote_centres(router, options.cache_dir.as_deref())?,
                        detector.detect(&seen.label_texts().join(", ")).code,
                    )
                };
                let mut index = LabelIndex {
                    spaces: HashMap::new(),
                    centres,
                    language,
                    text_vecs,
                    heads: HashMap::new(),
                    learned: "zero-shot".into(),
                    vectors_hash: seen.hash(),
                    anchors,
                    head_evidence: None,
                };
                if let Some(model) = &t.model {
                    Self::install_model(&mut index, t, model, router)?;
                    index.head_evidence =
                        Self::head_evidence(t, model, router, options.cache_dir.as_deref())?;
                }
                let examples = Self::example_means_from_vocabulary(t, router)?;
                Self::rebuild_label_spaces(&mut index, t, &examples);
                Some(index)
            }
            _ => None,
        };
        let enricher = Enricher {
            options,
            detector,
            embedders,
            labels,
            config_hashes: Mutex::new(HashMap::new()),
            stage_seconds: Mutex::new(BTreeMap::new()),
        };
        Ok(enricher)
    }

    /// Everything that decides the enrichment of an article in `language`: the models that serve
    /// that language and every option. Changing the model of one language therefore recomputes
    /// exactly that language's articles.
    fn fingerprint(&self, language: &str) -> String {
        let o = &self.options;
        let fingerprint = ConfigFingerprint {
            tool: TOOL,
            method_revision: METHOD_REVISION,
            output_key: &o.output_key,
            id_fields: &o.fields.id,
            title_fields: &o.fields.title,
            text_fields: &o.fields.text,
            language: self.detector.id(),
            embedder: self
                .embedders
                .as_ref()
                .map(|e| e.for_language(language).id().to_string()),
            summary: &o.summary,
            abstractive: self
                .abstractive_for(language)
                .map(|s| (s.id(), s.options())),
            topics: o.topics.as_ref().map(|t| {
                let learned = self
                    .labels
                    .as_ref()
                    .map(|l| l.learned.as_str())
                    .unwrap_or("");
                let vocabulary = self
                    .labels
                    .as_ref()
                    .map(|l| l.vectors_hash.clone())
                    .unwrap_or_else(|| t.taxonomy.hash());
                (vocabulary, &t.options, t.example_weight, learned)
            }),
            keywords: &o.keywords,
            word_classes: o
                .keywords
                .as_ref()
                .and_then(|k| k.word_classes.as_ref())
                .and_then(|w| w.id_for(language)),
        };
        let json = serde_json::to_vec(&fingerprint).expect("fingerprint serialises");
        format!("sha256:{}", hex::encode(Sha256::digest(&json)))
    }

    /// The config fingerprint written into the provenance of an article in `language`.
    pub fn config_hash(&self, language: &str) -> String {
        let mut cache = self.config_hashes.lock().expect("config hash cache");
        cache
            .entry(language.to_string())
            .or_insert_with(|| self.fingerprint(language))
            .clone()
    }

    /// Each embedder's language centres (`topics::centre`), by `Embedder::id`: the shipped IPTC
    /// head's where it was trained on the embedder's weights (the default embedder, so a default
    /// run embeds nothing for them), measured on the IPTC example sentences otherwise (cached
    /// like label vectors). A flat vocabulary's votes and a head `lede learn` trains on it read the
    /// same centres.
    fn vote_centres(
        router: &EmbedderRouter,
        cache_dir: Option<&std::path::Path>,
    ) -> crate::Result<HashMap<String, LanguageCentres>> {
        // A stale shipped head (while it is retrained) leaves the centres to be measured.
        let shipped = TopicModel::try_shipped_iptc().ok().flatten();
        let mut out = HashMap::new();
        for e in router.all() {
            let own = shipped
                .as_ref()
                .and_then(|m| m.heads.get(e.weights_id()))
                .filter(|h| h.dim == e.dim())
                .and_then(|h| h.centres.clone());
            let centres = match own {
                Some(c) => c,
                None => {
                    let texts = LanguageCentres::texts();
                    let texts: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
                    let key = format!("{}\nlanguage centres {}\nquery", e.id(), texts_hash(&texts));
                    let vecs = cached_vectors(cache_dir, &key, texts.len(), || {
                        e.embed(&texts, TextKind::Query)
                    })?;
                    LanguageCentres::from_vectors(&vecs, e.dim())
                }
            };
            out.insert(e.id().to_string(), centres);
        }
        Ok(out)
    }

    /// The vocabulary as its label vectors should see it, and what was anchored: each bare tag name
    /// of a flat vocabulary that names an IPTC subject (`topics::anchor`, decided by the default
    /// embedder, so every embedder sees the same texts). `None` when nothing is anchorable: the
    /// vocabulary itself serves.
    fn anchor_labels(
        t: &TopicsConfig,
        router: &EmbedderRouter,
        detector: &dyn LanguageDetector,
        cache_dir: Option<&std::path::Path>,
    ) -> crate::Result<(Option<Taxonomy>, BTreeMap<String, String>)> {
        let which = if t.anchor_labels {
            anchor::anchorable(&t.taxonomy)
        } else {
            Vec::new()
        };
        if which.is_empty() {
            return Ok((None, BTreeMap::new()));
        }
        let e = &router.default;
        let names: Vec<&str> = which
            .iter()
            .map(|&i| t.taxonomy.labels[i].label.as_str())
            .collect();
        let label_vecs = e.embed(&names, TextKind::Query)?;
        // The vocabulary's language decides which IPTC names its labels are matched against and
        // the language of the descriptions they borrow: the model matches texts of one language
        // far better than across two (measured in benches/QUALITY.md).
        let language = detector.detect(&t.taxonomy.label_texts().join(", ")).code;
        let candidates = anchor::candidates(&language);
        let texts: Vec<&str> = candidates.iter().map(|c| c.name.as_str()).collect();
        let key = format!(
            "{}\nanchor candidates {}\nquery",
            e.id(),
            texts_hash(&texts)
        );
        let candidate_vecs = cached_vectors(cache_dir, &key, texts.len(), || {
            e.embed(&texts, TextKind::Query)
        })?;
        let chosen = anchor::choose(&which, &label_vecs, &candidates, &candidate_vecs);
        let (seen, borrowed) = anchor::anchored(&t.taxonomy, &chosen, &candidates, &language);
        Ok((Some(seen), borrowed))
    }

    /// Each label's vector per embedder: its text, then the names of narrower labels and the
    /// facets of descriptions (a label is represented by what it covers: topics::subject_vectors).
    fn label_vectors(
        seen: &Taxonomy,
        router: &EmbedderRouter,
        cache_dir: Option<&std::path::Path>,
    ) -> crate::Result<HashMap<String, Vec<Vec<f32>>>> {
        let own = seen.label_texts();
        let parts = seen.part_texts();
        let texts: Vec<&str> = own.iter().chain(&parts).map(|s| s.as_str()).collect();
        let mut text_vecs = HashMap::new();
        for e in router.all() {
            let key = format!("{}\n{}\nquery", e.id(), seen.hash());
            let mut vecs = cached_vectors(cache_dir, &key, texts.len(), || {
                e.embed(&texts, TextKind::Query)
            })?;
            let part_vecs = vecs.split_off(own.len());
            let vecs = topics::subject_vectors(seen, vecs, &part_vecs);
            text_vecs.insert(e.id().to_string(), vecs);
        }
        Ok(text_vecs)
    }

    /// The label spaces a trained IPTC head reads its evidence from when it learnt at another
    /// depth than this run reports (`--topic-depth`): it learnt each top-level subject's share of
    /// the votes over its own depth's subjects, and read over another depth's those shares
    /// differ (depth 1 against a depth-2 head scored 5-8 points worse at the top level,
    /// benches/QUALITY.md). None where the depths agree or the vocabulary is flat.
    fn head_evidence(
        t: &TopicsConfig,
        model: &TopicModel,
        router: &EmbedderRouter,
        cache_dir: Option<&std::path::Path>,
    ) -> crate::Result<Option<HeadEvidence>> {
        if !t.taxonomy.hierarchical {
            return Ok(None);
        }
        let trained = model.taxonomy()?;
        if trained.hash() == t.taxonomy.hash() {
            return Ok(None);
        }
        let none = vec![None; trained.labels.len()];
        let spaces = Self::label_vectors(&trained, router, cache_dir)?
            .into_iter()
            .map(|(id, vecs)| {
                // IPTC's tree: read as embedded.
                let space = topics::LabelSpace::new(&trained, vecs, &none, 0.0, None);
                (id, space)
            })
            .collect();
        Ok(Some(HeadEvidence {
            taxonomy: trained,
            spaces,
        }))
    }

    /// Uses a trained topic model's heads, after checking that it was made for this vocabulary and
    /// these embedders.
    fn install_model(
        index: &mut LabelIndex,
        t: &TopicsConfig,
        model: &TopicModel,
        router: &EmbedderRouter,
    ) -> crate::Result<()> {
        let bad = |reason: String| {
            crate::Error::Config(format!("topic model {}: {reason}", model.dir.display()))
        };
        // IPTC's head scores the top level, whatever the depth below it.
        if !t.taxonomy.hierarchical && model.card.vocabulary_hash != t.taxonomy.hash() {
            return Err(bad(format!(
                "trained for the vocabulary {:?} ({}), this run's is {:?} ({}); use the vocabulary it was trained for, or retrain",
                model.card.scheme,
                model.card.vocabulary_hash,
                t.taxonomy.scheme,
                t.taxonomy.hash()
            )));
        }
        // The head learnt from zero-shot evidence: labels anchored otherwise score otherwise.
        if model.card.anchors != index.anchors {
            let show = |a: &BTreeMap<String, String>| {
                if a.is_empty() {
                    "none".to_string()
                } else {
                    a.iter()
                        .map(|(l, s)| format!("{l} -> {s}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            return Err(bad(format!(
                "trained with the labels anchored to IPTC subjects as {}, this run anchors {}; retrain it with `lede learn` (or give --label-anchors to both or neither)",
                show(&model.card.anchors),
                show(&index.anchors)
            )));
        }
        let roots: Vec<&str> = topics::top_level(&t.taxonomy)
            .into_iter()
            .map(|i| t.taxonomy.labels[i].id.as_str())
            .collect();
        if model.card.labels != roots {
            return Err(bad("its labels are not the vocabulary's top level".into()));
        }
        for e in router.all() {
            // A head is fitted to the weights: it reads their vectors in any arithmetic.
            match model.heads.get(e.weights_id()) {
                Some(h) if h.dim == e.dim() => {
                    index.heads.insert(e.weights_id().to_string(), h.clone());
                }
                _ if model.built_in => {}
                _ => {
                    return Err(bad(format!(
                        "trained for the embedder(s) {}, this run uses {}; retrain it with this run's models",
                        model.heads.keys().cloned().collect::<Vec<_>>().join(", "),
                        e.weights_id()
                    )))
                }
            }
        }
        index.learned = model.id.clone();
        Ok(())
    }

    /// Example texts given in the vocabulary file, embedded as articles are.
    fn example_means_from_vocabulary(
        t: &TopicsConfig,
        router: &EmbedderRouter,
    ) -> crate::Result<HashMap<String, Vec<Option<Vec<f32>>>>> {
        let mut out = HashMap::new();
        if t.taxonomy.labels.iter().all(|l| l.examples.is_empty()) {
            return Ok(out);
        }
        for e in router.all() {
            let mut means = Vec::new();
            for l in &t.taxonomy.labels {
                if l.examples.is_empty() {
                    means.push(None);
                    continue;
                }
                let texts: Vec<&str> = l.examples.iter().map(|s| s.as_str()).collect();
                let vecs = e.embed(&texts, TextKind::Query)?;
                means.push(Some(mean(&vecs)));
            }
            out.insert(e.id().to_string(), means);
        }
        Ok(out)
    }

    fn rebuild_label_spaces(
        index: &mut LabelIndex,
        t: &TopicsConfig,
        examples: &HashMap<String, Vec<Option<Vec<f32>>>>,
    ) {
        let n = t.taxonomy.labels.len();
        index.spaces = index
            .text_vecs
            .iter()
            .map(|(id, text_vecs)| {
                let none = vec![None; n];
                let ex = examples.get(id).unwrap_or(&none);
                (
                    id.clone(),
                    topics::LabelSpace::new(
                        &t.taxonomy,
                        text_vecs.clone(),
                        ex,
                        t.example_weight,
                        index.centres.get(id).map(|c| (c, index.language.as_str())),
                    ),
                )
            })
            .collect();
    }

    /// Trains a topic head on articles already tagged by hand (`topics::learn`): `tags_field` holds
    /// a tag or a list of tags, matched to the vocabulary by id or label (case-insensitive; a
    /// narrower IPTC subject counts for its top-level subject). One head per embedder: the
    /// default (multilingual) embedder learns from every article, a language's own embedder from
    /// the articles in its languages. `on_progress` hears the number of articles read so far.
    pub fn train_topics(
        &self,
        records: impl Iterator<Item = RawRecord>,
        tags_field: &str,
        options: &LearnOptions,
        on_progress: &mut dyn FnMut(usize),
    ) -> crate::Result<TrainedTopics> {
        let (Some(t), Some(router), Some(index)) =
            (&self.options.topics, &self.embedders, &self.labels)
        else {
            return Err(crate::Error::Config(
                "learning topics needs the topic stage".into(),
            ));
        };
        let roots = topics::top_level(&t.taxonomy);
        let root_of: HashMap<&str, usize> = roots
            .iter()
            .enumerate()
            .map(|(k, &i)| (t.taxonomy.labels[i].id.as_str(), k))
            .collect();
        let by_name: HashMap<String, usize> = t
            .taxonomy
            .labels
            .iter()
            .filter_map(|l| {
                let k = *root_of.get(l.path.first()?.as_str())?;
                Some([(l.id.to_lowercase(), k), (l.label.to_lowercase(), k)])
            })
            .flatten()
            .collect();
        let ids: Vec<String> = roots
            .iter()
            .map(|&i| t.taxonomy.labels[i].id.clone())
            .collect();
        let mut examples: BTreeMap<String, Vec<learn::Example>> = BTreeMap::new();
        // Each example's grams as (interned id, count), beside it in `interned`, until the
        // lexicon is chosen, below.
        let mut gram_table = topics::lexical::GramTable::default();
        let mut interned: BTreeMap<String, Vec<Vec<(u32, u32)>>> = BTreeMap::new();
        let mut report = LearnReport::default();
        // Each learnt article's language and tags, for `learn::language_skew`.
        let mut languages: Vec<(String, Vec<usize>)> = Vec::new();
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut hasher = Sha256::new();
        let mut records = records.peekable();
        let mut read = 0usize;
        while records.peek().is_some() {
            let chunk: Vec<RawRecord> = records.by_ref().take(256).collect();
            read += chunk.len();
            // Learning needs article vectors only: no keyword candidates.
            let prepared: Vec<Step> = chunk
                .into_par_iter()
                .map(|r| self.prepare(r, false, Reuse::none()))
                .collect();
            let vectors = self.embed_chunk(&prepared, true)?;
            for step in &prepared {
                let p = match step {
                    Step::Pending(p) => p,
                    Step::Done(o) => {
                        report.warnings.push(format!(
                            "{}: skipped: {}",
                            o.origin,
                            o.error.as_deref().unwrap_or("not readable")
                        ));
                        continue;
                    }
                };
                let article = match &p.article {
                    Ok(a) => a,
                    Err(e) => {
                        report.warnings.push(format!("{}: skipped: {e}", p.origin));
                        continue;
                    }
                };
                let tags: Vec<String> = match lookup(&p.record, tags_field) {
                    Some(Value::String(s)) if !s.trim().is_empty() => vec![s.clone()],
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .filter(|s| !s.trim().is_empty())
                        .collect(),
                    _ => Vec::new(),
                };
                if tags.is_empty() {
                    report.untagged += 1;
                    report.warnings.push(format!(
                        "{}: article {:?} has no tags in {tags_field:?}; skipped",
                        p.origin, article.id
                    ));
                    continue;
                }
                if let Some(first) = seen.get(&article.content_hash) {
                    report.duplicates += 1;
                    report.warnings.push(format!(
                        "{}: article {:?} has the same text as {first}; learnt once",
                        p.origin, article.id
                    ));
                    continue;
                }
                seen.insert(article.content_hash.clone(), p.origin.clone());
                let mut found = Vec::new();
                for tag in &tags {
                    match by_name.get(&tag.trim().to_lowercase()) {
                        Some(&k) if !found.contains(&k) => found.push(k),
                        Some(_) => {}
                        None => {
                            *report.unknown_tags.entry(tag.clone()).or_default() += 1;
                            report.warnings.push(format!(
                                "{}: article {:?}: tag {tag:?} is not in the vocabulary {:?}",
                                p.origin, article.id, t.taxonomy.scheme
                            ));
                        }
                    }
                }
                if found.is_empty() {
                    continue;
                }
                hasher.update(article.content_hash.as_bytes());
                for &k in &found {
                    hasher.update(ids[k].as_bytes());
                    hasher.update([0]);
                    *report.examples_per_label.entry(ids[k].clone()).or_default() += 1;
                }
                report.articles += 1;
                languages.push((p.language.code.clone(), found.clone()));
                // Grams only of the languages the head reads them for: the lexicon is theirs.
                let counts = if options.reads_grams_of(&p.language.code) {
                    gram_table.add(&[&article.title, &article.body])
                } else {
                    Vec::new()
                };
                let routed = router.for_language(&p.language.code).id();
                for e in router.all() {
                    if e.id() != routed && e.id() != router.default.id() {
                        continue;
                    }
                    let Some(space) = index.spaces.get(e.id()) else {
                        continue;
                    };
                    let Some(vecs) = article_vector(e.as_ref(), article, &p.sentences, &vectors)
                    else {
                        continue;
                    };
                    let shares = topics::vote_shares(
                        &vecs.weighted_parts(topics::TITLE_WEIGHT),
                        &p.language.code,
                        space,
                    );
                    examples
                        .entry(e.id().to_string())
                        .or_default()
                        .push(learn::Example {
                            key: article.content_hash.clone(),
                            x: vecs.with_title(topics::TITLE_WEIGHT),
                            shares: topics::branch_shares(&t.taxonomy, &shares),
                            tags: found.clone(),
                            grams: Vec::new(),
                            language: p.language.code.clone(),
                        });
                    interned
                        .entry(e.id().to_string())
                        .or_default()
                        .push(counts.clone());
                }
            }
            on_progress(read);
        }
        if report.articles == 0 {
            return Err(crate::Error::Config(format!(
                "no article could be learnt from: none had a tag in {tags_field:?} that is in the vocabulary {:?}",
                t.taxonomy.scheme
            )));
        }
        for (id, n) in &report.examples_per_label {
            if *n < 2 {
                report.warnings.push(format!(
                    "tag {id:?} has a single example: too few to learn from, its scores rest on the zero-shot method"
                ));
            }
        }
        let by_language: Vec<(&str, &[usize])> = languages
            .iter()
            .map(|(l, tags)| (l.as_str(), tags.as_slice()))
            .collect();
        report.language_skew = learn::language_skew(&by_language, &ids);
        for s in &report.language_skew {
            report.warnings.push(format!(
                "tag {:?} is on {} of the {} articles in language {:?} against {} of the {} in other languages: \
                 the head may learn the language for the tag, and held-out figures cannot show it; \
                 if future {:?} articles will split differently, tag some that do, or train with `lede learn --no-grams`",
                s.tag, s.tagged, s.articles, s.language, s.other_tagged, s.other_articles, s.language
            ));
        }
        let (lexicon, column) = gram_table.lexicon();
        for (embedder, ex) in examples.iter_mut() {
            for (e, counts) in ex.iter_mut().zip(&interned[embedder]) {
                e.grams = lexicon.features_of(
                    counts
                        .iter()
                        .filter_map(|&(id, count)| Some((column[id as usize]?, count))),
                );
            }
        }
        // The votes' centres where they have them (a flat vocabulary), so the head and its
        // evidence agree; the same centres, cached, for IPTC's tree, whose votes are not centred.
        let centres_by_embedder = if options.language_centres && index.centres.is_empty() {
            std::borrow::Cow::Owned(Self::vote_centres(
                router,
                self.options.cache_dir.as_deref(),
            )?)
        } else {
            std::borrow::Cow::Borrowed(&index.centres)
        };
        let mut heads = BTreeMap::new();
        let mut metrics = BTreeMap::new();
        for e in router.all() {
            let Some(ex) = examples.get_mut(e.id()) else {
                continue;
            };
            let centres = if options.language_centres {
                let c = centres_by_embedder
                    .get(e.id())
                    .cloned()
                    .expect("vote_centres gives every embedder its centres");
                for x in ex.iter_mut() {
                    x.x = c.centre(&x.x, &x.language);
                }
                Some(c)
            } else {
                None
            };
            let mut fit = learn::train(ex, &ids, e.dim(), Some(&lexicon), options);
            fit.head.centres = centres;
            heads.insert(e.weights_id().to_string(), fit.head);
            metrics.insert(e.weights_id().to_string(), fit.metrics);
        }
        Ok(TrainedTopics {
            labels: ids,
            heads,
            metrics,
            report,
            fingerprint: format!("sha256:{}", hex::encode(hasher.finalize())),
            anchors: index.anchors.clone(),
        })
    }

    /// Scores topics with heads trained by `train_topics` from now on (an embedder without one
    /// stays zero-shot).
    pub fn use_trained(&mut self, trained: &TrainedTopics) {
        if let Some(index) = &mut self.labels {
            index.heads = trained
                .heads
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            index.learned = format!("learnt:{}", trained.fingerprint);
        }
        self.config_hashes = Mutex::new(HashMap::new());
    }

    /// Trains a topic head on tagged articles and uses it from now on (`--learn-from`).
    pub fn learn_from(
        &mut self,
        records: impl Iterator<Item = RawRecord>,
        tags_field: &str,
    ) -> crate::Result<LearnReport> {
        let trained =
            self.train_topics(records, tags_field, &LearnOptions::default(), &mut |_| {})?;
        self.use_trained(&trained);
        Ok(trained.report)
    }

    fn needs_sentences(&self) -> bool {
        self.options.summary.is_some()
            || self.options.topics.is_some()
            || self.options.keywords.is_some()
    }

    /// An earlier enrichment of this very article under this very config, if one is at hand.
    fn reusable(&self, article: &Article, own: Option<&Value>, reuse: Reuse) -> Option<Value> {
        let current = |v: &Value| {
            let m = v.as_object()?;
            let provenance = m.get("provenance")?.as_object()?;
            let language = m.get("language")?.get("code")?.as_str()?;
            let ok = m.get("error").is_none()
                && m.get("id")?.as_str()? == article.id
                && provenance.get("content_hash")?.as_str()? == article.content_hash
                && provenance.get("config_hash")?.as_str()? == self.config_hash(language);
            ok.then_some(())
        };
        if let Some(v) = own.filter(|_| reuse.own) {
            if current(v).is_some() {
                return Some(v.clone());
            }
        }
        let found = Value::Object(reuse.earlier?.find(&article.id, &article.content_hash)?);
        current(&found).map(|_| found)
    }

    fn prepare(&self, raw: RawRecord, with_keywords: bool, reuse: Reuse) -> Step {
        let origin = raw.origin.0;
        let source = raw.source;
        let mut record = match raw.record {
            Ok(r) => r,
            Err(e) => return Step::Done(Outcome::unreadable(origin, e)),
        };
        // The record as the user gave it, without lede's own earlier output.
        let previous = record.shift_remove(&self.options.output_key);
        let article = to_article_within(
            &record,
            &self.options.fields,
            self.options.max_body_bytes,
            &source,
        );
        if let Ok(a) = &article {
            if let Some(earlier) = self.reusable(a, previous.as_ref(), reuse) {
                let changed = previous.as_ref() != Some(&earlier);
                record.insert(self.options.output_key.clone(), earlier);
                return Step::Done(Outcome {
                    origin,
                    id: Some(a.id.clone()),
                    output: Some(Value::Object(record)),
                    error: None,
                    reused: true,
                    changed,
                });
            }
        }
        let (language, sentences, candidates) = match &article {
            Ok(a) => {
                let text = if a.title.is_empty() {
                    a.body.clone()
                } else {
                    format!("{}\n\n{}", a.title, a.body)
                };
                let language = self.detector.detect(&text);
                let sentences = if self.needs_sentences() {
                    split_sentences(&a.body, &language.code)
                } else {
                    Vec::new()
                };
                let candidates = match &self.options.keywords {
                    Some(k) if with_keywords => {
                        let texts: Vec<&str> = sentences.iter().map(|s| s.text.as_str()).collect();
                        keywords::extract_candidates(&texts, &language.code, k)
                    }
                    _ => Vec::new(),
                };
                (language, sentences, candidates)
            }
            Err(_) => (DetectedLanguage::undetermined(), Vec::new(), Vec::new()),
        };
        Step::Pending(Prepared {
            origin,
            record,
            previous,
            article,
            language,
            sentences,
            candidates,
        })
    }

    /// A chunk of records; outcomes come back in input order. Articles whose current enrichment is
    /// found through `reuse` are not recomputed.
    pub fn enrich_chunk(&self, chunk: Vec<RawRecord>, reuse: Reuse) -> crate::Result<Vec<Outcome>> {
        let prepared: Vec<Step> = self.timed("prepare", || {
            chunk
                .into_par_iter()
                .map(|r| self.prepare(r, true, reuse))
                .collect()
        });
        let vectors = self.timed("embed", || self.embed_chunk(&prepared, false))?;
        let generated = self.timed("generate", || self.generate_summaries(&prepared))?;
        Ok(self.timed("score", || {
            prepared
                .into_par_iter()
                .zip(generated)
                .map(|(p, generated)| match p {
                    Step::Pending(p) => self.finish(p, &vectors, generated),
                    Step::Done(outcome) => outcome,
                })
                .collect()
        }))
    }

    /// `--check`: which records hold no current enrichment, without computing any (no model work).
    /// A stale record comes back with `changed` set and no output; a current one as `enrich_chunk`
    /// would give it (reused).
    pub fn check_chunk(&self, chunk: Vec<RawRecord>, reuse: Reuse) -> Vec<Outcome> {
        chunk
            .into_par_iter()
            .map(|r| match self.prepare(r, false, reuse) {
                Step::Done(outcome) => outcome,
                Step::Pending(p) => Outcome {
                    id: p.article.as_ref().ok().map(|a| a.id.clone()),
                    error: p.article.err(),
                    origin: p.origin,
                    output: None,
                    reused: false,
                    changed: true,
                },
            })
            .collect()
    }

    fn timed<T>(&self, stage: &'static str, work: impl FnOnce() -> T) -> T {
        let started = std::time::Instant::now();
        let out = work();
        let mut times = self.stage_seconds.lock().expect("stage times");
        *times.entry(stage).or_default() += started.elapsed().as_secs_f64();
        out
    }

    /// Embedders in use whose vectors the learnt keyword scorer was not trained on: their articles'
    /// keywords are ranked by the weighted method instead (provenance names no keyword scorer there).
    pub fn embedders_without_keyword_scorer(&self) -> Vec<String> {
        let scorer = self
            .options
            .keywords
            .as_ref()
            .and_then(|k| k.scorer.as_ref());
        match (scorer, &self.embedders) {
            (Some(scorer), Some(router)) => router
                .all()
                .into_iter()
                .filter(|e| !scorer.reads(e.as_ref()))
                .map(|e| e.id().to_string())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// What decides each record's enrichment.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Wall seconds per stage so far (prepare: parse, clean, detect language, segment, keyword
    /// candidates; embed; generate: abstractive summaries; score: teaser, keywords, topics,
    /// assembly), and each embedder's usage.
    pub fn timings(&self) -> Value {
        let stages = self.stage_seconds.lock().expect("stage times").clone();
        let embedders: Map<String, Value> = self
            .embedders
            .iter()
            .flat_map(|r| r.all())
            .map(|e| {
                let usage = serde_json::to_value(e.usage()).expect("serialisable");
                (e.id().to_string(), usage)
            })
            .collect();
        serde_json::json!({"stage_seconds": stages, "embedders": embedders})
    }

    fn abstractive_for(&self, code: &str) -> Option<&Arc<AbstractiveSummarizer>> {
        let models = &self.options.abstractive;
        models.get(code).or_else(|| models.get("*"))
    }

    /// Abstractive summaries for the records whose language has a model, batched across the chunk,
    /// one list per model; `None` for the others (they get the extractive teaser).
    fn generate_summaries(&self, prepared: &[Step]) -> crate::Result<Vec<Option<Summary>>> {
        let mut out: Vec<Option<Summary>> = vec![None; prepared.len()];
        if self.options.abstractive.is_empty() || self.options.summary.is_none() {
            return Ok(out);
        }
        // Per model: the model, and the (article index, text) pairs it summarises.
        type Work<'a> = (&'a Arc<AbstractiveSummarizer>, Vec<(usize, String)>);
        let mut by_model: BTreeMap<String, Work> = BTreeMap::new();
        for (i, p) in prepared.iter().enumerate() {
            let Some(p) = p.pending() else { continue };
            if p.article.is_err() || p.sentences.is_empty() {
                continue;
            }
            let Some(model) = self.abstractive_for(&p.language.code) else {
                continue;
            };
            // The prose only: bylines, captions and "read more" lines would leak into the summary.
            let prose: Vec<&str> = p
                .sentences
                .iter()
                .filter(|s| extractive::is_teaser_candidate(s))
                .map(|s| s.text.trim())
                .collect();
            let text = if prose.is_empty() {
                p.sentences
                    .iter()
                    .map(|s| s.text.trim())
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                prose.join(" ")
            };
            by_model
                .entry(model.id())
                .or_insert_with(|| (model, Vec::new()))
                .1
                .push((i, text));
        }
        for (model, jobs) in by_model.into_values() {
            let texts: Vec<&str> = jobs.iter().map(|(_, t)| t.as_str()).collect();
            let results = model.summarize(&texts)?;
            for ((i, _), (text, warnings)) in jobs.iter().zip(results) {
                out[*i] = Some(if text.trim().is_empty() {
                    let mut s = Summary::none("the model generated an empty summary");
                    s.model = Some(model.id());
                    s.warnings = warnings;
                    s
                } else {
                    Summary {
                        text: Some(text),
                        method: "abstractive".into(),
                        model: Some(model.id()),
                        sentences: None,
                        reason: None,
                        warnings,
                        explain: None,
                    }
                });
            }
        }
        Ok(out)
    }

    /// Embeds every distinct sentence, title and keyword candidate of the chunk once, per embedder.
    /// With `every_embedder`, the default embedder also embeds the articles of languages that have
    /// their own (its topic head learns from every article).
    fn embed_chunk(&self, prepared: &[Step], every_embedder: bool) -> crate::Result<Vectors> {
        let mut vectors = HashMap::new();
        let Some(router) = &self.embedders else {
            return Ok(vectors);
        };
        if !self.needs_sentences() {
            return Ok(vectors);
        }
        let in_context = self
            .options
            .keywords
            .as_ref()
            .is_some_and(|k| k.in_context || k.shortlist > 0 || k.scorer.is_some());
        for embedder in router.all() {
            // The chunk's parsed articles that this embedder serves.
            let served = || {
                prepared.iter().filter_map(Step::pending).filter_map(|p| {
                    let article = p.article.as_ref().ok()?;
                    (router.for_language(&p.language.code).id() == embedder.id()
                        || (every_embedder && embedder.id() == router.default.id()))
                    .then_some((p, article))
                })
            };
            let mut texts: Vec<&str> = Vec::new();
            let mut seen = HashSet::new();
            // In context: the byte spans wanted from each text, and each candidate's occurrences.
            let mut spans_of: HashMap<&str, Vec<Range<usize>>> = HashMap::new();
            type Occurrences<'a> = Vec<(&'a str, Range<usize>)>;
            let mut occurrences: Vec<(String, Occurrences)> = Vec::new();
            for (p, article) in served() {
                let own = || {
                    std::iter::once(article.title.as_str())
                        .chain(p.sentences.iter().map(|s| s.text.as_str()))
                };
                let mut wanted: Vec<&str> = own().collect();
                for c in &p.candidates {
                    if in_context {
                        let found = keywords::occurrences(&c.surface, own());
                        if !found.is_empty() {
                            for (t, r) in &found {
                                let spans = spans_of.entry(t).or_default();
                                if !spans.contains(r) {
                                    spans.push(r.clone());
                                }
                            }
                            occurrences.push((in_context_key(article, &c.surface), found));
                            continue;
                        }
                    }
                    wanted.push(&c.surface);
                }
                for t in wanted {
                    if !t.trim().is_empty() && seen.insert(t) {
                        texts.push(t);
                    }
                }
            }
            if texts.is_empty() {
                continue;
            }
            let spans: Vec<Vec<Range<usize>>> = texts
                .iter()
                .map(|t| spans_of.remove(t).unwrap_or_default())
                .collect();
            // Sentence-to-article and label similarity are symmetric: e5 wants `query: ` on both sides.
            let (vecs, span_vecs) = embedder.embed_with_spans(&texts, &spans, TextKind::Query)?;
            let mut pooled: HashMap<(&str, &Range<usize>), &Vec<f32>> = HashMap::new();
            for ((t, rs), vs) in texts.iter().zip(&spans).zip(&span_vecs) {
                for (r, v) in rs.iter().zip(vs) {
                    pooled.insert((t, r), v);
                }
            }
            // A candidate in context: the mean of its occurrences' vectors, L2-normalised.
            for (key, found) in &occurrences {
                let mut v = vec![0f32; embedder.dim()];
                for (t, r) in found {
                    if let Some(x) = pooled.get(&(*t, r)) {
                        v.iter_mut().zip(x.iter()).for_each(|(a, b)| *a += b);
                    }
                }
                topics::normalize(&mut v);
                vectors.insert((embedder.id().to_string(), key.clone()), v);
            }
            for (t, v) in texts.into_iter().zip(vecs) {
                vectors.insert((embedder.id().to_string(), t.to_string()), v);
            }
            // Two stages: the shortlisted candidates on their own.
            let Some(opts) = self
                .options
                .keywords
                .as_ref()
                .filter(|k| k.shortlist > 0 && k.scorer.is_none())
            else {
                continue;
            };
            let mut texts: Vec<&str> = Vec::new();
            for (p, article) in served() {
                // A lexicon that cannot be read is reported on the record in `finish`.
                let eligible = word_class_eligibility(opts, &p.candidates, &p.language.code)
                    .ok()
                    .flatten();
                let Some(mask) = keyword_shortlist(
                    embedder.as_ref(),
                    article,
                    &p.sentences,
                    &p.candidates,
                    &vectors,
                    opts,
                    eligible.as_deref(),
                ) else {
                    continue;
                };
                for (c, keep) in p.candidates.iter().zip(mask) {
                    let key = (embedder.id().to_string(), c.surface.clone());
                    if keep && !vectors.contains_key(&key) && seen.insert(&c.surface) {
                        texts.push(&c.surface);
                    }
                }
            }
            let vecs = embedder.embed(&texts, TextKind::Query)?;
            for (t, v) in texts.into_iter().zip(vecs) {
                vectors.insert((embedder.id().to_string(), t.to_string()), v);
            }
        }
        Ok(vectors)
    }

    fn finish(&self, p: Prepared, vectors: &Vectors, generated: Option<Summary>) -> Outcome {
        let Prepared {
            origin,
            mut record,
            previous,
            article,
            language,
            sentences,
            candidates,
        } = p;
        let key = self.options.output_key.clone();
        let article = match article {
            Ok(a) => a,
            Err(e) => {
                let mut m = Map::new();
                m.insert("error".into(), Value::String(e.clone()));
                record.insert(key, Value::Object(m));
                return Outcome {
                    origin,
                    id: None,
                    output: Some(Value::Object(record)),
                    error: Some(e),
                    reused: false,
                    changed: true,
                };
            }
        };
        let mut out = Map::new();
        out.insert("id".into(), Value::String(article.id.clone()));
        out.insert(
            "language".into(),
            serde_json::to_value(&language).expect("serialisable"),
        );
        let mut models = Map::new();
        models.insert("language".into(), Value::String(self.detector.id()));
        if let Some(router) = &self.embedders {
            let embedder = router.for_language(&language.code);
            let get = |t: &str| vectors.get(&(embedder.id().to_string(), t.to_string()));
            // Every text was embedded in this chunk; a zero vector only stands in for a blank one.
            let vector_of = |t: &str| get(t).cloned().unwrap_or_else(|| vec![0.0; embedder.dim()]);
            let summary = generated.or_else(|| {
                let opts = self.options.summary.as_ref()?;
                let sentence_vecs: Vec<Vec<f32>> =
                    sentences.iter().map(|s| vector_of(&s.text)).collect();
                let title_vec = get(&article.title).cloned().unwrap_or_default();
                Some(extractive::summarize(
                    &sentences,
                    &sentence_vecs,
                    &title_vec,
                    opts,
                    embedder.id(),
                ))
            });
            if let Some(summary) = summary {
                out.insert(
                    "summary".into(),
                    serde_json::to_value(&summary).expect("serialisable"),
                );
            }
            let words: usize = sentences
                .iter()
                .map(|s| s.text.split_whitespace().count())
                .sum();
            let taggable = words >= MIN_WORDS_TO_TAG;
            // Keywords are ranked against the article with its title at full weight (headline
            // words make good keywords); topics weigh the title less (see topics::TITLE_WEIGHT).
            let article_vecs = article_vector(embedder.as_ref(), &article, &sentences, vectors)
                .filter(|_| taggable);
            let article_vec = article_vecs.as_ref().map(|v| v.with_title(1.0));
            let too_short = || {
                Value::String(format!(
                    "too short to tag (fewer than {MIN_WORDS_TO_TAG} words)"
                ))
            };
            if let Some(opts) = &self.options.keywords {
                // The learnt scorer ranks only articles embedded by the model it was trained on.
                let scorer = opts
                    .scorer
                    .as_deref()
                    .filter(|s| s.reads(embedder.as_ref()));
                // Read once per language, like the word lists below; only for articles long
                // enough to tag.
                let eligible = match article_vec
                    .as_ref()
                    .map(|_| word_class_eligibility(opts, &candidates, &language.code))
                {
                    Some(Err(e)) => {
                        out.insert("keywords_reason".into(), Value::String(e.to_string()));
                        None
                    }
                    Some(Ok(Some(eligible))) => {
                        if let Some(w) = &opts.word_classes {
                            models.insert(
                                "word_classes".into(),
                                Value::String(
                                    w.id_for(&language.code).unwrap_or(w.id()).to_string(),
                                ),
                            );
                        }
                        Some(eligible)
                    }
                    Some(Ok(None)) | None => None,
                };
                let found = match &article_vec {
                    Some(doc) if scorer.is_some() || opts.explain => {
                        let vecs =
                            in_context_vectors(embedder.as_ref(), &article, &candidates, vectors);
                        // Read once per language; the files were checksum-verified at start, so a
                        // failure here is a damaged installation, named on the record.
                        let table = match opts
                            .frequencies
                            .as_ref()
                            .map(|f| f.for_language(&language.code))
                        {
                            Some(Err(e)) => {
                                out.insert("keywords_reason".into(), Value::String(e.to_string()));
                                None
                            }
                            Some(Ok(table)) => table,
                            None => None,
                        };
                        let title = keywords::title_words(&article.title, &language.code);
                        let signal_article = keywords::signals::Article {
                            vector: doc,
                            lang: &language.code,
                            frequencies: table.as_deref(),
                            title: &title,
                        };
                        if opts.explain {
                            let rows =
                                keywords::signals::signals(&candidates, &vecs, &signal_article);
                            // The in-context vector too (4 decimals), for scorers that read it.
                            // And whether the word-class rule lets it be picked at all.
                            let explained: Vec<Value> = candidates
                                .iter()
                                .zip(rows)
                                .zip(&vecs)
                                .enumerate()
                                .map(|(i, ((c, row), v))| {
                                    let v: Vec<f32> =
                                        v.iter().map(|x| (x * 1e4).round() / 1e4).collect();
                                    let eligible = keywords::is_eligible(eligible.as_deref(), i);
                                    serde_json::json!({"surface": c.surface, "key": c.key, "signals": row, "vector": v, "eligible": eligible})
                                })
                                .collect();
                            out.insert(
                                "keywords_explain".into(),
                                serde_json::json!({
                                    "features": keywords::signals::FEATURES,
                                    "candidates": explained,
                                }),
                            );
                        }
                        match scorer {
                            Some(scorer) => keywords::select_learnt(
                                &candidates,
                                &vecs,
                                &signal_article,
                                scorer,
                                opts,
                                eligible.as_deref(),
                            ),
                            None => keywords::select_keywords_among(
                                &candidates,
                                &vecs,
                                doc,
                                opts,
                                eligible.as_deref(),
                            ),
                        }
                    }
                    Some(doc) => {
                        let mask = keyword_shortlist(
                            embedder.as_ref(),
                            &article,
                            &sentences,
                            &candidates,
                            vectors,
                            opts,
                            eligible.as_deref(),
                        );
                        let vecs: Vec<Vec<f32>> = match (&mask, opts.in_context) {
                            (Some(mask), _) => candidates
                                .iter()
                                .zip(mask)
                                .map(|(c, &keep)| match keep {
                                    true => vector_of(&c.surface),
                                    false => vec![0.0; embedder.dim()],
                                })
                                .collect(),
                            (None, true) => in_context_vectors(
                                embedder.as_ref(),
                                &article,
                                &candidates,
                                vectors,
                            ),
                            (None, false) => {
                                candidates.iter().map(|c| vector_of(&c.surface)).collect()
                            }
                        };
                        // The shortlist holds only eligible candidates; without one, the rule.
                        let among = mask.or_else(|| eligible.clone());
                        keywords::select_keywords_among(
                            &candidates,
                            &vecs,
                            doc,
                            opts,
                            among.as_deref(),
                        )
                    }
                    None => Vec::new(),
                };
                if article_vec.is_none() {
                    out.insert("keywords_reason".into(), too_short());
                } else if found.is_empty() {
                    let reason = match &eligible {
                        Some(e) if !e.is_empty() && e.iter().all(|keep| !keep) => {
                            "every candidate phrase is a lone adjective, adverb or verb form \
                             (--keyword-any-word-class lists them)"
                        }
                        _ => "no candidate phrases in the text",
                    };
                    out.insert("keywords_reason".into(), Value::String(reason.into()));
                }
                out.insert(
                    "keywords".into(),
                    serde_json::to_value(&found).expect("serialisable"),
                );
            }
            if let (Some(t), Some(index)) = (&self.options.topics, &self.labels) {
                match (&article_vecs, index.spaces.get(embedder.id())) {
                    (Some(vecs), Some(space)) => {
                        let parts = vecs.weighted_parts(topics::TITLE_WEIGHT);
                        let shares = topics::vote_shares(&parts, &language.code, space);
                        let x = vecs.with_title(topics::TITLE_WEIGHT);
                        let roots = topics::top_level(&t.taxonomy).len();
                        let zero_shot = HeadWeights::zero_shot(roots, x.len(), t.options.zero_shot);
                        let trained = index.heads.get(embedder.weights_id());
                        let head = trained.unwrap_or(&zero_shot);
                        // A trained head reads the votes of the depth it learnt at.
                        let evidence = match (&index.head_evidence, trained) {
                            (Some(own), Some(_)) => own.spaces.get(embedder.id()).map(|s| {
                                topics::branch_shares(
                                    &own.taxonomy,
                                    &topics::vote_shares(&parts, &language.code, s),
                                )
                            }),
                            _ => None,
                        }
                        .unwrap_or_else(|| topics::branch_shares(&t.taxonomy, &shares));
                        let text = [article.title.as_str(), article.body.as_str()];
                        let probs = topics::probabilities(
                            &t.taxonomy,
                            &shares,
                            &evidence,
                            &x,
                            &text,
                            &language.code,
                            head,
                        );
                        let found = topics::assign(&probs, &t.taxonomy, &language.code, &t.options);
                        if let Some(best) = &found.best_below {
                            out.insert(
                                "topics_reason".into(),
                                Value::String(format!(
                                    "fits no subject well enough: the likeliest, {:?}, has probability {} (below the threshold {})",
                                    best.label, best.score, t.options.threshold
                                )),
                            );
                        }
                        out.insert(
                            "topics".into(),
                            serde_json::to_value(&found.topics).expect("serialisable"),
                        );
                    }
                    _ => {
                        out.insert("topics".into(), Value::Array(Vec::new()));
                        out.insert("topics_reason".into(), too_short());
                    }
                }
                let model = if index.heads.contains_key(embedder.weights_id()) {
                    index.learned.clone()
                } else {
                    "zero-shot".into()
                };
                models.insert("topics".into(), Value::String(model));
            }
            if let Some(scorer) = self
                .options
                .keywords
                .as_ref()
                .and_then(|k| k.scorer.as_ref())
                .filter(|s| s.reads(embedder.as_ref()))
            {
                models.insert("keywords".into(), Value::String(scorer.id().to_string()));
                if let Some(f) = self
                    .options
                    .keywords
                    .as_ref()
                    .and_then(|k| k.frequencies.as_ref())
                {
                    models.insert("word_frequencies".into(), Value::String(f.id().to_string()));
                }
            }
            models.insert("embedder".into(), Value::String(embedder.id().to_string()));
        }
        let mut provenance = Map::new();
        provenance.insert("tool".into(), Value::String(TOOL.into()));
        provenance.insert(
            "content_hash".into(),
            Value::String(article.content_hash.clone()),
        );
        provenance.insert(
            "config_hash".into(),
            Value::String(self.config_hash(&language.code)),
        );
        provenance.insert("models".into(), Value::Object(models));
        out.insert("provenance".into(), Value::Object(provenance));
        let out = Value::Object(out);
        let changed = previous.as_ref() != Some(&out);
        record.insert(key, out);
        Outcome {
            origin,
            id: Some(article.id),
            output: Some(Value::Object(record)),
            error: None,
            reused: false,
            changed,
        }
    }
}

/// Vectors from the on-disk cache, or computed and then cached (atomically: temp file, rename). A
/// damaged or mismatched cache file is ignored and rewritten.
/// SHA-256 (hex) of a list of texts, for the cache key of their vectors.
fn texts_hash(texts: &[&str]) -> String {
    let mut h = Sha256::new();
    texts.iter().for_each(|t| h.update(t.as_bytes()));
    hex::encode(h.finalize())
}

fn cached_vectors(
    dir: Option<&std::path::Path>,
    key: &str,
    count: usize,
    compute: impl FnOnce() -> crate::Result<Vec<Vec<f32>>>,
) -> crate::Result<Vec<Vec<f32>>> {
    let Some(dir) = dir else { return compute() };
    let path = dir.join(format!(
        "vectors-{}.f32",
        &hex::encode(Sha256::digest(key.as_bytes()))[..32]
    ));
    if let Ok(bytes) = std::fs::read(&path) {
        if bytes.len() >= 8 && (bytes.len() - 8) % 4 == 0 {
            let n = u32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize;
            let dim = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
            if n == count && n * dim * 4 == bytes.len() - 8 {
                let flat: Vec<f32> = bytes[8..]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect();
                return Ok(flat.chunks(dim.max(1)).map(|c| c.to_vec()).collect());
            }
        }
    }
    let vecs = compute()?;
    let dim = vecs.first().map(|v| v.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(8 + vecs.len() * dim * 4);
    bytes.extend_from_slice(&(vecs.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&(dim as u32).to_le_bytes());
    for v in &vecs {
        v.iter()
            .for_each(|x| bytes.extend_from_slice(&x.to_le_bytes()));
    }
    // A cache that cannot be written only costs time next run.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::create_dir_all(dir).is_ok()
        && std::fs::write(&tmp, &bytes).is_ok()
        && std::fs::rename(&tmp, &path).is_err()
    {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(vecs)
}

fn mean<V: AsRef<[f32]>>(vecs: &[V]) -> Vec<f32> {
    let mut m = vec![0f32; vecs.first().map(|v| v.as_ref().len()).unwrap_or(0)];
    for v in vecs {
        m.iter_mut().zip(v.as_ref()).for_each(|(a, x)| *a += x);
    }
    topics::normalize(&mut m);
    m
}

/// What an article is about: its sentences' vectors, their normalised mean, and its title's vector
/// (reusing the vectors the teaser needs; no extra model pass).
struct ArticleVector<'a> {
    sentences: Vec<&'a [f32]>,
    body: Vec<f32>,
    title: Option<&'a [f32]>,
}

impl<'a> ArticleVector<'a> {
    /// Each sentence's vector at weight 1 and the title's at `title_weight`: the votes of
    /// topics::assign.
    fn weighted_parts(&self, title_weight: f32) -> Vec<(&'a [f32], f32)> {
        let mut parts: Vec<(&[f32], f32)> = self.sentences.iter().map(|v| (*v, 1.0)).collect();
        if let Some(t) = self.title {
            parts.push((t, title_weight));
        }
        parts
    }

    /// The body plus the title times `title_weight`, normalised.
    fn with_title(&self, title_weight: f32) -> Vec<f32> {
        let mut v = self.body.clone();
        if let Some(t) = self.title {
            v.iter_mut()
                .zip(t)
                .for_each(|(a, x)| *a += title_weight * x);
            topics::normalize(&mut v);
        }
        v
    }
}

/// Where a keyword candidate's in-context vector is kept among the chunk's vectors: it depends on
/// its article's sentences, so it is keyed by the article, never shared with another article's.
fn in_context_key(article: &Article, surface: &str) -> String {
    format!("\u{1}{}\u{1}{surface}", article.content_hash)
}

/// Each candidate's vector in context (its own where it had no occurrence to pool from).
fn in_context_vectors(
    embedder: &dyn Embedder,
    article: &Article,
    candidates: &[Candidate],
    vectors: &Vectors,
) -> Vec<Vec<f32>> {
    let get = |t: &str| vectors.get(&(embedder.id().to_string(), t.to_string()));
    candidates
        .iter()
        .map(|c| {
            get(&in_context_key(article, &c.surface))
                .or_else(|| get(&c.surface))
                .cloned()
                .unwrap_or_else(|| vec![0.0; embedder.dim()])
        })
        .collect()
}

/// With `--keyword-shortlist N`: which candidates are embedded on their own and chosen among,
/// ranked by their in-context vectors against the article (title at full weight, as keywords
/// are ranked). The same inputs give the same list wherever it is computed.
fn keyword_shortlist(
    embedder: &dyn Embedder,
    article: &Article,
    sentences: &[Sentence],
    candidates: &[Candidate],
    vectors: &Vectors,
    opts: &KeywordOptions,
    eligible: Option<&[bool]>,
) -> Option<Vec<bool>> {
    // One stage in context (`in_context`, or a learnt scorer) or every candidate on its own (0):
    // no shortlist.
    if opts.shortlist == 0 || opts.in_context || opts.scorer.is_some() {
        return None;
    }
    let doc = article_vector(embedder, article, sentences, vectors)?.with_title(1.0);
    let vecs = in_context_vectors(embedder, article, candidates, vectors);
    let size = opts.shortlist.max(3 * opts.top_n);
    Some(keywords::shortlist(
        candidates, &vecs, &doc, opts, size, eligible,
    ))
}

/// Which candidates the word-class rule leaves eligible ([`keywords::word_class_misfits`]);
/// `None` where no lexicon is loaded or none covers the language.
fn word_class_eligibility(
    opts: &KeywordOptions,
    candidates: &[Candidate],
    lang: &str,
) -> crate::Result<Option<Vec<bool>>> {
    let Some(classes) = &opts.word_classes else {
        return Ok(None);
    };
    Ok(classes.for_language(lang)?.map(|lexicon| {
        keywords::word_class_misfits(candidates, &lexicon, lang)
            .into_iter()
            .map(|misfit| !misfit)
            .collect()
    }))
}

/// None when no sentence has a vector.
fn article_vector<'a>(
    embedder: &dyn Embedder,
    article: &Article,
    sentences: &[Sentence],
    vectors: &'a Vectors,
) -> Option<ArticleVector<'a>> {
    let get = |t: &str| vectors.get(&(embedder.id().to_string(), t.to_string()));
    let parts: Vec<&[f32]> = sentences
        .iter()
        .filter_map(|s| get(&s.text).map(|v| v.as_slice()))
        .collect();
    if parts.is_empty() {
        return None;
    }
    Some(ArticleVector {
        body: mean(&parts),
        sentences: parts,
        title: get(&article.title).map(|t| t.as_slice()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::language::{LinguaDetector, LinguaOptions};

    #[test]
    fn keyword_signals_without_word_frequencies_are_refused_up_front() {
        let options = Options {
            summary: None,
            topics: None,
            keywords: Some(KeywordOptions {
                explain: true,
                ..KeywordOptions::default()
            }),
            ..Options::default()
        };
        let detector = Box::new(LinguaDetector::new(LinguaOptions::default()));
        let err = Enricher::new(options, detector, None).err().unwrap();
        assert!(err.to_string().contains("word frequencies"), "{err}");
    }
}
