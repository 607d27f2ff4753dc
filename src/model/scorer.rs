//! Small learnt scorers that ship inside the binary: a few dense layers over hand-computed signals,
//! one logit out. Trained by seeded scripts (`scripts/train-*`), stored as JSON in `models/`, and
//! pinned by sha256 in the manifest's `built_in` list, like the embedders' weights.
//!
//! A file names the signals it was trained on; one whose names differ from what the code computes is
//! refused, so a stale file can never score with shifted inputs.
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
}

/// A learnt scorer: `score(signals)` is a logit (higher: more likely to be what it was trained to find).
#[derive(Debug, Clone)]
pub struct Scorer {
    id: String,
    file: ScorerFile,
}

impl PartialEq for Scorer {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Scorer {
    /// Reads a scorer file's bytes, checking it was made for `features`; `origin` names it in errors.
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
        if file.features != features {
            return Err(bad(format!(
                "made for the signals {:?}, this lede computes {:?}",
                file.features, features
            )));
        }
        let mut width = features.len();
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

    /// The logit for one row of signals.
    pub fn score(&self, signals: &[f32]) -> f32 {
        let mut x: Vec<f32> = signals
            .iter()
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
        assert!((linear.score(&[3.0, 1.0]) - 3.5).abs() < 1e-6);
        let deep = Scorer::from_bytes(file(&["a", "b"], 1).as_bytes(), "t", &["a", "b"]).unwrap();
        assert!((deep.score(&[3.0, 1.0]) - (3.0 * 1f32.tanh() + 0.5)).abs() < 1e-6);
        assert!(linear.id().starts_with("t-1@sha256:"));
        let err =
            Scorer::from_bytes(file(&["a", "c"], 0).as_bytes(), "t.json", &["a", "b"]).unwrap_err();
        assert!(err.to_string().contains("t.json") && err.to_string().contains("signals"));
        assert!(Scorer::from_bytes(b"{}", "t", &["a"]).is_err());
    }
}
