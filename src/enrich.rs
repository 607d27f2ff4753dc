//! The enrichment pipeline: record in, the same record plus one `lede` object out.
use crate::input::{to_article, Article, FieldMap, RawRecord};
use crate::language::{DetectedLanguage, LanguageDetector};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub const TOOL: &str = concat!("lede ", env!("CARGO_PKG_VERSION"));

/// Everything that decides what a record's enrichment contains.
#[derive(Debug, Clone)]
pub struct Options {
    /// Key of the object added to each record.
    pub output_key: String,
    pub fields: FieldMap,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            output_key: "lede".to_string(),
            fields: FieldMap::default(),
        }
    }
}

pub struct Enricher {
    options: Options,
    detector: Box<dyn LanguageDetector>,
    config_hash: String,
    models: Map<String, Value>,
}

/// Result of one record: the line to write (when the record was an object) and its error, if any.
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
    models: &'a Map<String, Value>,
}

impl Enricher {
    pub fn new(options: Options, detector: Box<dyn LanguageDetector>) -> Self {
        let mut models = Map::new();
        models.insert("language".into(), Value::String(detector.id()));
        let fingerprint = ConfigFingerprint {
            tool: TOOL,
            output_key: &options.output_key,
            id_fields: &options.fields.id,
            title_fields: &options.fields.title,
            text_fields: &options.fields.text,
            models: &models,
        };
        let json = serde_json::to_vec(&fingerprint).expect("fingerprint serialises");
        let config_hash = format!("sha256:{}", hex::encode(Sha256::digest(&json)));
        Enricher {
            options,
            detector,
            config_hash,
            models,
        }
    }

    pub fn config_hash(&self) -> &str {
        &self.config_hash
    }

    /// The enrichment object for one article.
    pub fn enrich_article(&self, article: &Article) -> Map<String, Value> {
        let text = if article.title.is_empty() {
            article.body.clone()
        } else {
            format!("{}\n\n{}", article.title, article.body)
        };
        let language: DetectedLanguage = self.detector.detect(&text);
        let mut out = Map::new();
        out.insert("id".into(), Value::String(article.id.clone()));
        out.insert(
            "language".into(),
            serde_json::to_value(&language).expect("serialisable"),
        );
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
        provenance.insert("models".into(), Value::Object(self.models.clone()));
        out.insert("provenance".into(), Value::Object(provenance));
        out
    }

    /// One record: original fields untouched and in order, our key added (or replaced, when the
    /// input is an earlier output of lede).
    pub fn enrich_record(&self, raw: RawRecord) -> Outcome {
        let origin = raw.origin.0;
        let mut record = match raw.record {
            Ok(r) => r,
            Err(e) => {
                return Outcome {
                    origin,
                    output: None,
                    error: Some(e),
                }
            }
        };
        let key = &self.options.output_key;
        let previous = record.get(key).cloned();
        // The record as the user gave it, without our own earlier output.
        if previous.is_some() {
            record.shift_remove(key);
        }
        let (enrichment, error) = match to_article(&record, &self.options.fields) {
            Ok(article) => (self.enrich_article(&article), None),
            Err(e) => {
                let mut m = Map::new();
                m.insert("error".into(), Value::String(e.clone()));
                (m, Some(e))
            }
        };
        record.insert(key.clone(), Value::Object(enrichment));
        Outcome {
            origin,
            output: Some(Value::Object(record)),
            error,
        }
    }

    /// A chunk of records in parallel; outcomes come back in input order.
    pub fn enrich_chunk(&self, chunk: Vec<RawRecord>) -> Vec<Outcome> {
        chunk
            .into_par_iter()
            .map(|r| self.enrich_record(r))
            .collect()
    }
}
