//! ONNX Runtime as the embedder's forward pass (cargo feature `onnx`), measured against libtorch
//! behind the same `Embedder` (issue 5, benches/backends.rs). The library is loaded at run time from
//! a file (the PyPI `onnxruntime` wheel's `libonnxruntime.so.*`); the graph is one that
//! benches/onnx_export.py writes from the same safetensors weights.
use crate::error::{Error, Result};
use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

/// The process's one ONNX Runtime environment (the library can be loaded only once).
static ENVIRONMENT: OnceLock<std::result::Result<Environment, String>> = OnceLock::new();

fn environment(library: &Path) -> Result<&'static Environment> {
    ENVIRONMENT
        .get_or_init(|| {
            ort::init_from(library)
                .map_err(|e| format!("loading {}: {e}", library.display()))?
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|reason| Error::Model {
            model: "onnxruntime".into(),
            reason: reason.clone(),
        })
}

/// An encoder graph (`input_ids` [batch, seq] -> `last_hidden_state` [batch, seq, hidden]).
pub struct OnnxEncoder {
    session: Mutex<Session>,
    name: String,
}

impl OnnxEncoder {
    /// Opens the graph file `graph` with the ONNX Runtime shared library at `library` (loaded once
    /// per process). `threads`: ONNX Runtime's intra-op threads (libtorch's own setting does not
    /// reach it).
    pub fn load(library: &Path, graph: &Path, threads: usize) -> Result<Self> {
        let name = graph.display().to_string();
        let err = |reason: String| Error::Model {
            model: name.clone(),
            reason,
        };
        let env = environment(library)?;
        let session = Session::builder(env)
            .map_err(|e| err(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| err(e.to_string()))?
            .with_intra_threads(threads.max(1))
            .map_err(|e| err(e.to_string()))?
            .with_intra_op_spinning(std::env::var("LEDE_ONNX_SPIN").is_ok())
            .map_err(|e| err(e.to_string()))?
            .commit_from_file(graph)
            .map_err(|e| err(e.to_string()))?;
        Ok(OnnxEncoder {
            session: Mutex::new(session),
            name,
        })
    }

    /// Last hidden states of `rows` windows of `width` token ids each, row-major
    /// [rows, width, hidden].
    pub fn forward(&self, ids: &[i64], rows: usize, width: usize) -> Result<Vec<f32>> {
        let err = |reason: String| Error::Model {
            model: self.name.clone(),
            reason,
        };
        let input =
            Tensor::from_array(([rows, width], ids.to_vec())).map_err(|e| err(e.to_string()))?;
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session
            .run(ort::inputs!["input_ids" => input])
            .map_err(|e| err(e.to_string()))?;
        let (_, data) = outputs["last_hidden_state"]
            .try_extract_tensor::<f32>()
            .map_err(|e| err(e.to_string()))?;
        Ok(data.to_vec())
    }
}
