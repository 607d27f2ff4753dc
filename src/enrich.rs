//! The enrichment pipeline: record in, the same record plus one `lede` object out.
//!
//! Records go through in chunks: a parallel CPU pass (parse, clean HTML, detect language, segment), one
//! model pass per embedder over every distinct text of the chunk (batched by token budget across
//! articles), then a parallel pass that scores and assembles each record. Output keeps input order.
use crate::embed::{Embedder, TextKind};
use crate::input::{to_article, Article, FieldMap, RawRecord};
use crate::language::{DetectedLanguage, LanguageDetector};
use crate::segment::{split_sentences, Sentence};
use crate::summary::extractive::{self, ExtractiveOptions};
use crate::summary::Summary;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub const TOOL: &str = concat!("lede ", env!("CARGO_PKG_VERSION"));

/// Everything that decides what a record's enrichment contains.
#[derive(Debug, Clone)]
pub struct Options {
    /// Key of the object added to each record.
    pub output_key: String,
    pub fields: FieldMap,
    /// `None`: no summary stage.
    pub summary: Option<ExtractiveOptions>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            output_key: "lede".to_string(),
            fields: FieldMap::default(),
            summary: Some(ExtractiveOptions::default()),
        }
    }
}

/// Which embedder serves which language: a default (multilingual) and per-language overrides.
#[derive(Clone)]
pub struct EmbedderRouter {
    pub default: Arc<dyn Embedder>,
    pub by_language: BTreeMap<String, Arc<dyn Embedder>>,
}

impl EmbedderRouter {
    pub fn new(default: Arc<dyn Embedder>) -> Self {
        EmbedderRouter {
            default,
            by_language: BTreeMap::new(),
        }
    }

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

    fn describe(&self) -> Value {
        let mut m = Map::new();
        m.insert("*".into(), Value::String(self.default.id().to_string()));
        for (lang, e) in &self.by_language {
            m.insert(lang.clone(), Value::String(e.id().to_string()));
        }
        Value::Object(m)
    }
}

pub struct Enricher {
    options: Options,
    detector: Box<dyn LanguageDetector>,
    embedders: Option<EmbedderRouter>,
    config_hash: String,
}

/// Result of one record: the value to write (when the record was an object) and its error, if any.
#[derive(Debug)]
pub struct Outcome {
    pub origin: String,
    pub output: Option<Value>,
    pub error: Option<String>,
}

#[derive(Serialize)]
struct ConfigFingerprint<'a> {
    tool: &'a str,
    output_key: &'a str,
    id_fields: &'a [String],
    title_fields: &'a [String],
    text_fields: &'a [String],
    language: String,
    embedders: Value,
    summary: &'a Option<ExtractiveOptions>,
}

/// A record after the CPU pass, waiting for its embeddings.
struct Prepared {
    origin: String,
    record: Map<String, Value>,
    article: Result<Article, String>,
    language: DetectedLanguage,
    sentences: Vec<Sentence>,
}

impl Enricher {
    /// `embedders` may be `None` only when no stage needs them (summary off).
    pub fn new(
        options: Options,
        detector: Box<dyn LanguageDetector>,
        embedders: Option<EmbedderRouter>,
    ) -> crate::Result<Self> {
        if options.summary.is_some() && embedders.is_none() {
            return Err(crate::Error::Config(
                "the summary stage needs an embedder".into(),
            ));
        }
        let fingerprint = ConfigFingerprint {
            tool: TOOL,
            output_key: &options.output_key,
            id_fields: &options.fields.id,
            title_fields: &options.fields.title,
            text_fields: &options.fields.text,
            language: detector.id(),
            embedders: embedders
                .as_ref()
                .map(|e| e.describe())
                .unwrap_or(Value::Null),
            summary: &options.summary,
        };
        let json = serde_json::to_vec(&fingerprint).expect("fingerprint serialises");
        let config_hash = format!("sha256:{}", hex::encode(Sha256::digest(&json)));
        Ok(Enricher {
            options,
            detector,
            embedders,
            config_hash,
        })
    }

    pub fn config_hash(&self) -> &str {
        &self.config_hash
    }

    fn prepare(&self, raw: RawRecord) -> Result<Prepared, Outcome> {
        let origin = raw.origin.0;
        let mut record = match raw.record {
            Ok(r) => r,
            Err(e) => {
                return Err(Outcome {
                    origin,
                    output: None,
                    error: Some(e),
                })
            }
        };
        // The record as the user gave it, without lede's own earlier output.
        record.shift_remove(&self.options.output_key);
        let article = to_article(&record, &self.options.fields);
        let (language, sentences) = match &article {
            Ok(a) => {
                let text = if a.title.is_empty() {
                    a.body.clone()
                } else {
                    format!("{}\n\n{}", a.title, a.body)
                };
                let language = self.detector.detect(&text);
                let sentences = if self.options.summary.is_some() {
                    split_sentences(&a.body, &language.code)
                } else {
                    Vec::new()
                };
                (language, sentences)
            }
            Err(_) => (DetectedLanguage::undetermined(), Vec::new()),
        };
        Ok(Prepared {
            origin,
            record,
            article,
            language,
            sentences,
        })
    }

    /// A chunk of records; outcomes come back in input order.
    pub fn enrich_chunk(&self, chunk: Vec<RawRecord>) -> crate::Result<Vec<Outcome>> {
        let prepared: Vec<Result<Prepared, Outcome>> =
            chunk.into_par_iter().map(|r| self.prepare(r)).collect();
        let vectors = self.embed_chunk(&prepared)?;
        Ok(prepared
            .into_par_iter()
            .map(|p| match p {
                Ok(p) => self.finish(p, &vectors),
                Err(outcome) => outcome,
            })
            .collect())
    }

    /// Embeds every distinct sentence and title of the chunk once, per embedder.
    fn embed_chunk(
        &self,
        prepared: &[Result<Prepared, Outcome>],
    ) -> crate::Result<HashMap<(String, String), Vec<f32>>> {
        let mut vectors = HashMap::new();
        let Some(router) = &self.embedders else {
            return Ok(vectors);
        };
        if self.options.summary.is_none() {
            return Ok(vectors);
        }
        for embedder in router.all() {
            let mut texts: Vec<&str> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for p in prepared.iter().flatten() {
                let Ok(article) = &p.article else { continue };
                if router.for_language(&p.language.code).id() != embedder.id() {
                    continue;
                }
                for t in std::iter::once(article.title.as_str())
                    .chain(p.sentences.iter().map(|s| s.text.as_str()))
                {
                    if !t.trim().is_empty() && seen.insert(t) {
                        texts.push(t);
                    }
                }
            }
            if texts.is_empty() {
                continue;
            }
            // Sentence-to-article similarity is symmetric: e5 wants its `query: ` prefix on both sides.
            let vecs = embedder.embed(&texts, TextKind::Query)?;
            for (t, v) in texts.into_iter().zip(vecs) {
                vectors.insert((embedder.id().to_string(), t.to_string()), v);
            }
        }
        Ok(vectors)
    }

    fn finish(&self, p: Prepared, vectors: &HashMap<(String, String), Vec<f32>>) -> Outcome {
        let Prepared {
            origin,
            mut record,
            article,
            language,
            sentences,
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
                    output: Some(Value::Object(record)),
                    error: Some(e),
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
        if let (Some(opts), Some(router)) = (&self.options.summary, &self.embedders) {
            let embedder = router.for_language(&language.code);
            let lookup = |t: &str| {
                vectors
                    .get(&(embedder.id().to_string(), t.to_string()))
                    .cloned()
            };
            let sentence_vecs: Vec<Vec<f32>> = sentences
                .iter()
                .map(|s| lookup(&s.text).unwrap_or_else(|| vec![0.0; embedder.dim()]))
                .collect();
            let title_vec = lookup(&article.title).unwrap_or_default();
            let summary: Summary =
                extractive::summarize(&sentences, &sentence_vecs, &title_vec, opts, embedder.id());
            out.insert(
                "summary".into(),
                serde_json::to_value(&summary).expect("serialisable"),
            );
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
            Value::String(self.config_hash.clone()),
        );
        provenance.insert("models".into(), Value::Object(models));
        out.insert("provenance".into(), Value::Object(provenance));
        record.insert(key, Value::Object(out));
        Outcome {
            origin,
            output: Some(Value::Object(record)),
            error: None,
        }
    }
}
