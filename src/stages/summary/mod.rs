//! Summaries: the `Summarizer` stage. Extractive teasers by default (every language the embedder
//! knows); abstractive seq2seq generation where a model folder is configured.
pub mod abstractive;
pub mod extractive;
pub mod signals;

use serde::Serialize;

/// What lands in `lede.summary`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Absent when no summary could be made (`reason` says why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `extractive`, `abstractive`, or `none`.
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Id of the model that made it: the embedder (extractive) or the seq2seq model (abstractive).
    pub model: Option<String>,
    /// Extractive: indices of the chosen sentences in the article's sentence list, in article order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentences: Option<Vec<usize>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Why there is no summary; absent when there is one.
    pub reason: Option<String>,
    /// Things the user should know about how this summary was made (e.g. a long input truncated).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Each candidate's signals, when asked for (hidden `--summary-explain`, for benches/teaser_ranker.py).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<serde_json::Value>,
}

impl Summary {
    /// No summary, with the reason why (method `none`).
    pub fn none(reason: &str) -> Summary {
        Summary {
            text: None,
            method: "none".into(),
            model: None,
            sentences: None,
            reason: Some(reason.into()),
            warnings: Vec::new(),
            explain: None,
        }
    }
}
