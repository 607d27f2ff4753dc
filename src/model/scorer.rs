//! Small learnt scorers that ship inside the binary: a few dense layers over hand-computed signals,
//! one logit out. Trained by seeded scripts (`scripts/train-*`), stored as JSON in `models/`, and
//! pinned by sha256 in the manifest's `built_in` list, like the embedders' weights.
//!
//! A file names the signals it was trained on and reads them by name, so a file made before a signal
//! was added keeps scoring with the inputs it knows; one naming a signal the code does not compute is
//! refused, so a stale file can never score with shifted or missing inputs. A file may also read the item's
//! vector (after the signals); it then names the embedder whose vectors it was trained on, and the
//! pipeline refuses it beside any other embedder.
use crate::error::{Error, Result};
use crate::model::store::Manifest;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What scorer files say in `format`.
pub const FORMAT: &str = "lede-scorer/1";

/// A dense layer: `out = weights · x + bias`, `weights` one row per output.
#[derive(Debug, Clone, Deserialize, Serialize)]
struct Layer {
    weights: Vec<Vec<f32>>,
    bias: Vec<f32>,
}

impl Layer {
    fn apply(&self, x: &[f32]) -> Vec<f32> {
        self.weights
            .iter()
            .zip(&self.bias)
            .map(|(w, b)| w.iter().zip(x).map(|(w, x)| w * x).sum::<f32>() + b)
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
struct ScorerFile {
    format: String,
    name: String,
    version: u32,
    features: Vec<String>,
    /// Standardisation: `(x - mean) / scale` before the first layer.
    mean: Vec<f32>,
    scale: Vec<f32>,
    /// Hidden layers (tanh), then one output unit (a logit).
    hidden: Vec<Layer>,
    output: Layer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vector: Option<VectorInput>,
}

/// The item's vector as further inputs, after the signals.
#[derive(Debug, Clone, Deserialize, Serialize)]
struct VectorInput {
    /// The embedder the training vectors came from (`Embedder::id`).
    embedder: String,
    /// Its dimension.
    dim: usize,
}

/// A learnt scorer: `score(signals)` is a logit (higher: more likely to be what it was trained to find).
#[derive(Debug, Clone)]
pub struct Scorer {
    id: String,
    file: ScorerFile,
    /// For each signal the file reads, its column among the signals the code computes.
    columns: Vec<usize>,
}

impl PartialEq for Scorer {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Scorer {
    /// Reads a scorer file's bytes, checking it reads only signals among `features` (what the code
    /// computes, in the order rows will hold them); `origin` names it in errors.
    pub fn from_bytes(bytes: &[u8], origin: &str, features: &[&str]) -> Result<Scorer> {
        let bad = |reason: String| Error::Model {
            model: origin.to_string(),
            reason,
        };
        let file: ScorerFile = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("not a lede scorer file: {e}")))?;
        if file.format != FORMAT {
            return Err(bad(format!(
                "format {:?}, this lede reads {FORMAT:?}",
                file.format
            )));
        }
        let mut columns = Vec::with_capacity(file.features.len());
        for name in &file.features {
            match features.iter().position(|f| f == name) {
                Some(c) if !columns.contains(&c) => columns.push(c),
                _ => {
                    return Err(bad(format!(
                        "made for the signals {:?}, this lede computes {:?}",
                        file.features, features
                    )))
                }
            }
        }
        let mut width = columns.len() + file.vector.as_ref().map_or(0, |v| v.dim);
        if file.mean.len() != width || file.scale.len() != width {
            return Err(bad("its standardisation does not match its signals".into()));
        }
        for layer in file.hidden.iter().chain(std::iter::once(&file.output)) {
            if layer.weights.len() != layer.bias.len()
                || layer.weights.iter().any(|w| w.len() != width)
            {
                return Err(bad("its layer shapes do not chain".into()));
            }
            width = layer.bias.len();
        }
        if width != 1 {
            return Err(bad("its output layer must have one unit".into()));
        }
        let digest = hex::encode(Sha256::digest(bytes));
        Ok(Scorer {
            id: format!("{}-{}@sha256:{}", file.name, file.version, &digest[..12]),
            file,
            columns,
        })
    }

    /// A scorer compiled into the binary, checked against the manifest's `built_in` checksum.
    pub fn built_in(name: &str, bytes: &[u8], features: &[&str]) -> Result<Scorer> {
        let bad = |reason: String| Error::Model {
            model: name.to_string(),
            reason,
        };
        let manifest = Manifest::builtin();
        let entry = manifest
            .built_in
            .iter()
            .find(|b| b.name == name)
            .ok_or_else(|| bad("models/manifest.json has no built_in entry for it".into()))?;
        let actual = hex::encode(Sha256::digest(bytes));
        if actual != entry.sha256 {
            return Err(bad(format!(
                "{} has sha256 {actual}, the manifest expects {}",
                entry.file, entry.sha256
            )));
        }
        Scorer::from_bytes(bytes, &entry.file, features)
    }

    /// Name, version and checksum: what provenance and the config fingerprint name.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The embedder whose vectors it reads, and their dimension; `None` for signals only.
    pub fn vector_input(&self) -> Option<(&str, usize)> {
        self.file
            .vector
            .as_ref()
            .map(|v| (v.embedder.as_str(), v.dim))
    }

    /// Whether it can score with this embedder's vectors: always for a scorer of signals only, else
    /// only the embedder it was trained on, in any arithmetic or runtime (`+bf16`, `+onnx`, ...).
    pub fn reads(&self, embedder: &dyn crate::model::embed::Embedder) -> bool {
        match self.vector_input() {
            None => true,
            Some((trained_on, dim)) => embedder.weights_id() == trained_on && embedder.dim() == dim,
        }
    }

    /// The logit for one row of signals and the item's vector (read only by a scorer with a
    /// [`Scorer::vector_input`]; its length is checked when the pipeline is built).
    pub fn score(&self, signals: &[f32], vector: &[f32]) -> f32 {
        let vector = if self.file.vector.is_some() {
            vector
        } else {
            &[]
        };
        let mut x: Vec<f32> = self
            .columns
            .iter()
            .map(|&c| &signals[c])
            .chain(vector)
            .zip(self.file.mean.iter().zip(&self.file.scale))
            .map(|(x, (m, s))| (x - m) / s)
            .collect();
        for layer in &self.file.hidden {
            x = layer.apply(&x).into_iter().map(f32::tanh).collect();
        }
        self.file.output.apply(&x)[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(features: &[&str], hidden: usize) -> String {
        let n = features.len();
        serde_json::json!({
            "format": FORMAT, "name": "t", "version": 1, "features": features,
            "mean": vec![1.0; n], "scale": vec![2.0; n],
            "hidden": (0..hidden).map(|_| serde_json::json!({"weights": [vec![1.0; n]], "bias": [0.0]})).collect::<Vec<_>>(),
            "output": {"weights": [vec![3.0; if hidden > 0 { 1 } else { n }]], "bias": [0.5]},
        })
        .to_string()
    }

    #[test]
    fn scores_standardised_signals_and_refuses_other_signals() {
        let linear = Scorer::from_bytes(file(&["a", "b"], 0).as_bytes(), "t", &["a", "b"]).unwrap();
        // (3 - 1) / 2 = 1 and (1 - 1) / 2 = 0: 3 * 1 + 3 * 0 + 0.5.
        assert!((linear.score(&[3.0, 1.0], &[]) - 3.5).abs() < 1e-6);
        let deep = Scorer::from_bytes(file(&["a", "b"], 1).as_bytes(), "t", &["a", "b"]).unwrap();
        assert!((deep.score(&[3.0, 1.0], &[9.0]) - (3.0 * 1f32.tanh() + 0.5)).abs() < 1e-6);
        assert!(linear.id().starts_with("t-1@sha256:"));
        let err =
            Scorer::from_bytes(file(&["a", "c"], 0).as_bytes(), "t.json", &["a", "b"]).unwrap_err();
        assert!(err.to_string().contains("t.json") && err.to_string().contains("signals"));
        assert!(Scorer::from_bytes(b"{}", "t", &["a"]).is_err());
        // A name twice is refused too: each input is one signal.
        assert!(Scorer::from_bytes(file(&["a", "a"], 0).as_bytes(), "t", &["a", "b"]).is_err());
    }

    #[test]
    fn a_file_reads_its_signals_by_name_when_the_code_computes_more() {
        // Trained before "new" existed, and on ["b", "a"] in that order: it still reads b and a.
        let s =
            Scorer::from_bytes(file(&["b", "a"], 0).as_bytes(), "t", &["a", "new", "b"]).unwrap();
        // b = 3 -> (3 - 1) / 2 = 1, a = 1 -> 0; "new" is not read: 3 * 1 + 3 * 0 + 0.5.
        assert!((s.score(&[1.0, 100.0, 3.0], &[]) - 3.5).abs() < 1e-6);
    }

    #[test]
    fn a_scorer_can_read_the_items_vector_after_its_signals() {
        let mut f: serde_json::Value =
            serde_json::from_str(&file(&["a", "b", "c", "d"], 0)).unwrap();
        f["features"] = serde_json::json!(["a", "b"]);
        f["vector"] = serde_json::json!({"embedder": "e5@sha256:0", "dim": 2});
        let s = Scorer::from_bytes(f.to_string().as_bytes(), "t", &["a", "b"]).unwrap();
        assert_eq!(s.vector_input(), Some(("e5@sha256:0", 2)));
        // Each input standardised to (x - 1) / 2, weighted 3: 3 * (1 + 0 + 2 + 0) + 0.5.
        assert!((s.score(&[3.0, 1.0], &[5.0, 1.0]) - 9.5).abs() < 1e-6);
        // A vector width other than the layers' is refused.
        f["vector"]["dim"] = serde_json::json!(3);
        assert!(Scorer::from_bytes(f.to_string().as_bytes(), "t", &["a", "b"]).is_err());
    }
}
