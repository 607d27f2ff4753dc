//! `Pipeline`: the enrichment pipeline with its models loaded, built from options a stage at a time.
//!
//! ```
//! # fn main() -> lede::Result<()> {
//! use lede::formats::{Origin, RawRecord};
//! use lede::Pipeline;
//!
//! let pipeline = Pipeline::builder().build()?;
//! let article = serde_json::json!({
//!     "id": "tram-1",
//!     "title": "New tram line opens",
//!     "body": "The city opened its new tram line on Monday. It links the old town with the \
//!              university. Trams run every six minutes. The line cost 40 million euros.",
//! });
//! let record = RawRecord::new(Origin("example".into()), Ok(article.as_object().unwrap().clone()));
//! for outcome in pipeline.enrich(vec![record]) {
//!     let outcome = outcome?;
//!     let lede = &outcome.output.unwrap()["lede"];
//!     assert_eq!(lede["language"]["code"], "en");
//!     assert!(lede["summary"]["text"].as_str().unwrap().contains("tram line"));
//! }
//! # Ok(()) }
//! ```
use crate::formats::{FieldMap, RawRecord};
use crate::model::embed::{BatchOptions, BertEmbedder, Embedder};
use crate::model::encoder::Precision;
use crate::model::store::{self, Store};
use crate::model::word_classes::WordClasses;
use crate::model::wordfreq::WordFrequencies;
use crate::run::pipeline::{
    needs_word_frequencies, EmbedderRouter, Enricher, LearnReport, Options, Outcome, Reuse,
    TopicsConfig, TrainedTopics,
};
use crate::stages::keywords::KeywordOptions;
use crate::stages::language::{LinguaDetector, LinguaOptions};
use crate::stages::summary::abstractive::{AbstractiveOptions, AbstractiveSummarizer};
use crate::stages::summary::extractive::ExtractiveOptions;
use crate::stages::topics::head::TopicModel;
use crate::stages::topics::learn::LearnOptions;
use crate::stages::topics::{Taxonomy, TopicOptions};
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The CLI's default: 32 articles a chunk fill the model's batches well (benches/THROUGHPUT.md).
pub const DEFAULT_CHUNK_SIZE: usize = 32;

/// The enrichment pipeline, models loaded: records in, outcomes out, in input order.
pub struct Pipeline {
    enricher: Enricher,
    chunk_size: usize,
}

impl Pipeline {
    /// A builder with the CLI's defaults: every stage on, IPTC topics, multilingual-e5-small from
    /// the default model store.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// Enriches `records` a chunk at a time, lazily: each outcome comes out in input order as soon
    /// as its chunk is done. An error is a model failure that ends the stream; a bad record is an
    /// outcome with its `error` set, and the rest go on.
    pub fn enrich<I>(&self, records: I) -> impl Iterator<Item = Result<Outcome>> + '_
    where
        I: IntoIterator<Item = RawRecord>,
        I::IntoIter: 'static,
    {
        let mut records = records.into_iter().peekable();
        let mut failed = false;
        std::iter::from_fn(move || {
            if failed || records.peek().is_none() {
                return None;
            }
            let chunk: Vec<RawRecord> = records.by_ref().take(self.chunk_size).collect();
            Some(match self.enricher.enrich_chunk(chunk, Reuse::none()) {
                Ok(outcomes) => outcomes.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => {
                    failed = true;
                    vec![Err(e)]
                }
            })
        })
        .flatten()
    }

    /// Trains a topic head on articles already tagged by hand (`tags_field` holds a tag or a list
    /// of them) and scores topics with it from now on.
    pub fn learn_from(
        &mut self,
        records: impl Iterator<Item = RawRecord>,
        tags_field: &str,
    ) -> Result<LearnReport> {
        self.enricher.learn_from(records, tags_field)
    }

    /// Trains a topic head on tagged articles without using it: for `lede learn`, which writes it
    /// as a model folder (`TrainedTopics::write`). `on_progress` hears the articles read so far.
    pub fn train_topics(
        &self,
        records: impl Iterator<Item = RawRecord>,
        tags_field: &str,
        options: &LearnOptions,
        on_progress: &mut dyn FnMut(usize),
    ) -> Result<TrainedTopics> {
        self.enricher
            .train_topics(records, tags_field, options, on_progress)
    }

    /// What decides each record's enrichment.
    pub fn options(&self) -> &Options {
        self.enricher.options()
    }

    /// The pipeline's core, for callers that manage chunks and reuse themselves (a [`crate::Run`]).
    pub fn enricher(&self) -> &Enricher {
        &self.enricher
    }

    /// Articles per chunk.
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }
}

/// Options for a [`Pipeline`], one stage at a time; `build` loads the models.
pub struct PipelineBuilder {
    models_dir: Option<PathBuf>,
    embedder: String,
    embedder_for: Vec<(String, String)>,
    batch: BatchOptions,
    precision: Precision,
    options: Options,
    abstractive: Vec<(String, PathBuf)>,
    /// The topic stage is the default one, which scores with the shipped IPTC head.
    shipped_topic_head: bool,
    generation: AbstractiveOptions,
    chunk_size: usize,
    word_classes: bool,
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        PipelineBuilder {
            models_dir: None,
            embedder: "multilingual-e5-small".into(),
            embedder_for: Vec::new(),
            batch: BatchOptions::default(),
            precision: Precision::Auto,
            options: Options {
                summary: Some(ExtractiveOptions::default()),
                keywords: Some(KeywordOptions::default()),
                topics: Some(TopicsConfig {
                    taxonomy: Arc::new(Taxonomy::iptc(2)),
                    options: TopicOptions::default(),
                    example_weight: 1.0,
                    // The shipped head: loaded by `build`, so its error is `build`'s, and a
                    // stage set by `topics` (as `lede learn`'s) never reads it.
                    model: None,
                    anchor_labels: false,
                }),
                ..Options::default()
            },
            abstractive: Vec::new(),
            shipped_topic_head: true,
            generation: AbstractiveOptions::default(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            word_classes: true,
        }
    }
}

impl PipelineBuilder {
    /// The model store (default: `models/installed` of the checkout, or `$LEDE_MODELS_DIR`).
    pub fn models_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.models_dir = Some(dir.into());
        self
    }

    /// The default embedder: a model name from the store, or a folder with a BERT-family model.
    pub fn embedder(mut self, name: impl Into<String>) -> Self {
        self.embedder = name.into();
        self
    }

    /// Another embedder for articles in `lang` (an ISO 639-1 code).
    pub fn embedder_for(mut self, lang: &str, name: impl Into<String>) -> Self {
        self.embedder_for
            .push((lang.trim().to_lowercase(), name.into()));
        self
    }

    /// How many tokens go through the model at once.
    pub fn batch_tokens(mut self, tokens: usize) -> Self {
        self.batch.batch_tokens = tokens;
        self
    }

    /// Arithmetic of the embedder's linear layers: `Auto` (default: bf16 where the CPU has it, else
    /// fp32), or fp32, bf16, int8 as asked.
    pub fn precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// The extractive teaser's options; `None` turns the summary stage off.
    pub fn summary(mut self, summary: Option<ExtractiveOptions>) -> Self {
        self.options.summary = summary;
        self
    }

    /// An abstractive model folder for articles in `lang`, generating with `generation`.
    pub fn abstractive(mut self, lang: &str, dir: impl Into<PathBuf>) -> Self {
        self.abstractive
            .push((lang.trim().to_lowercase(), dir.into()));
        self
    }

    /// How abstractive models generate.
    pub fn generation(mut self, generation: AbstractiveOptions) -> Self {
        self.generation = generation;
        self
    }

    /// Whether `build` loads the word-class lexicons from the store for the keyword stage (on by
    /// default; `KeywordOptions::word_classes`): off, a lone adjective or verb may be a keyword.
    pub fn keyword_word_classes(mut self, on: bool) -> Self {
        self.word_classes = on;
        self
    }

    /// The keyword stage's options; `None` turns it off.
    pub fn keywords(mut self, keywords: Option<KeywordOptions>) -> Self {
        self.options.keywords = keywords;
        self
    }

    /// The topic stage: vocabulary and options; `None` turns it off.
    pub fn topics(mut self, topics: Option<TopicsConfig>) -> Self {
        self.options.topics = topics;
        self.shipped_topic_head = false;
        self
    }

    /// Where each record's id, title and text are found.
    pub fn fields(mut self, fields: FieldMap) -> Self {
        self.options.fields = fields;
        self
    }

    /// The key of the object added to each record (default `lede`).
    pub fn output_key(mut self, key: impl Into<String>) -> Self {
        self.options.output_key = key.into();
        self
    }

    /// Bodies longer than this are refused, by record.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.options.max_body_bytes = bytes;
        self
    }

    /// Articles per chunk: the model batches across a chunk (output does not depend on it).
    pub fn chunk_size(mut self, articles: usize) -> Self {
        self.chunk_size = articles.max(1);
        self
    }

    /// Loads the models (a missing or broken folder fails here, before any record is read).
    pub fn build(self) -> Result<Pipeline> {
        let store = Store::new(self.models_dir.unwrap_or_else(store::default_models_dir));
        let mut options = self.options;
        if self.shipped_topic_head {
            if let Some(t) = options.topics.as_mut() {
                t.model = TopicModel::try_shipped_iptc()?.map(Arc::new);
            }
        }

        if options.summary.is_none() && !self.abstractive.is_empty() {
            return Err(Error::Config(
                "--abstractive needs the summary stage (drop --no-summary)".into(),
            ));
        }
        for (lang, dir) in &self.abstractive {
            let model = AbstractiveSummarizer::load(dir, self.generation.clone())?;
            options.abstractive.insert(lang.clone(), Arc::new(model));
        }
        let embedders = if options.summary.is_some()
            || options.topics.is_some()
            || options.keywords.is_some()
        {
            Some(load_embedders(
                &store,
                &self.embedder,
                &self.embedder_for,
                self.batch,
                self.precision,
            )?)
        } else {
            None
        };
        if let Some(k) = options.keywords.as_mut() {
            if needs_word_frequencies(k, embedders.as_ref()) && k.frequencies.is_none() {
                k.frequencies = Some(Arc::new(WordFrequencies::from_store(&store)?));
            }
            if self.word_classes && k.word_classes.is_none() {
                let classes = WordClasses::from_store(&store).map_err(|e| match e {
                    Error::ModelMissing { .. } => Error::Config(format!(
                        "{e}; or let keywords be lone adjectives and verb forms: \
                         --keyword-any-word-class (PipelineBuilder::keyword_word_classes(false))"
                    )),
                    e => e,
                })?;
                k.word_classes = Some(Arc::new(classes));
            }
        }
        options.cache_dir = Some(store.dir.join(".cache"));
        let enricher = Enricher::new(
            options,
            Box::new(LinguaDetector::new(LinguaOptions::default())),
            embedders,
        )?;
        Ok(Pipeline {
            enricher,
            chunk_size: self.chunk_size,
        })
    }
}

/// Loads each distinct embedder once: a model name from the store, or a path to a local folder.
fn load_embedders(
    store: &Store,
    default: &str,
    per_language: &[(String, String)],
    batch: BatchOptions,
    precision: Precision,
) -> Result<EmbedderRouter> {
    let mut loaded: BTreeMap<String, Arc<dyn Embedder>> = BTreeMap::new();
    let mut load = |name: &str| -> Result<Arc<dyn Embedder>> {
        if let Some(e) = loaded.get(name) {
            return Ok(e.clone());
        }
        let path = Path::new(name);
        let e = if store.manifest.get(name).is_err() && path.is_dir() {
            BertEmbedder::from_folder(path, 512, Default::default(), batch)?
        } else {
            BertEmbedder::from_store(store, name, batch)?
        };
        let e = e.with_precision(precision)?;
        // Measurement builds only (benches/backends.rs): the forward pass in ONNX Runtime.
        #[cfg(feature = "onnx")]
        let e = match (
            std::env::var("LEDE_ONNXRUNTIME"),
            std::env::var("LEDE_ONNX_DIR"),
        ) {
            (Ok(library), Ok(dir)) => e.with_onnx(
                library.as_ref(),
                &Path::new(&dir).join(format!("{name}.onnx")),
                tch::get_num_threads().max(1) as usize,
            )?,
            _ => e,
        };
        let e: Arc<dyn Embedder> = Arc::new(e);
        loaded.insert(name.to_string(), e.clone());
        Ok(e)
    };
    let mut router = EmbedderRouter::new(load(default)?);
    for (lang, name) in per_language {
        router.by_language.insert(lang.clone(), load(name.trim())?);
    }
    Ok(router)
}
