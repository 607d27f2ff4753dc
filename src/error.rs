//! The library's one error type. The binary maps it to messages and exit codes.
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("model '{model}' is not installed (looked in {dir}); run `lede models install` (or scripts/setup)")]
    ModelMissing { model: String, dir: PathBuf },
    #[error("model file {path} has sha256 {actual}, manifest expects {expected}; the file is damaged or was changed: run `lede models install --force {model}`")]
    ModelChecksum {
        model: String,
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("unknown model '{0}' (see `lede models list`)")]
    UnknownModel(String),
    #[error("model install failed for '{model}': {reason}")]
    Install { model: String, reason: String },
    #[error("model format error in {path}: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("model '{model}': {reason}")]
    Model { model: String, reason: String },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    #[error("invalid configuration: {0}")]
    Config(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
