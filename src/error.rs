//! The library's one error type. The binary maps it to messages and exit codes.
use std::path::PathBuf;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A model the run needs is not installed.
    #[error("model '{model}' is not installed (looked in {dir}); run `lede models install` (or scripts/setup)")]
    ModelMissing {
        /// The model's name.
        model: String,
        /// The models directory that was searched.
        dir: PathBuf,
    },
    #[error("model file {path} has sha256 {actual}, manifest expects {expected}; the file is damaged or was changed: run `lede models install --force {model}`")]
    /// An installed model file does not match its manifest checksum.
    ModelChecksum {
        /// The model's name.
        model: String,
        /// The file that failed the check.
        path: PathBuf,
        /// The sha256 the manifest lists (hex).
        expected: String,
        /// The sha256 of the file on disk (hex).
        actual: String,
    },
    /// A model name that is not in the manifest.
    #[error("unknown model '{0}' (see `lede models list`)")]
    UnknownModel(String),
    /// Installing a model failed.
    #[error("model install failed for '{model}': {reason}")]
    Install {
        /// The model's name.
        model: String,
        /// What went wrong.
        reason: String,
    },
    /// A model weights file is malformed or could not be written.
    #[error("model format error in {path}: {reason}")]
    Format {
        /// The weights file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A model could not be loaded or run.
    #[error("model '{model}': {reason}")]
    Model {
        /// The model's name.
        model: String,
        /// What went wrong.
        reason: String,
    },
    /// A tokenizer could not be loaded or failed to encode or decode.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// An error reported by libtorch.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// Options, a taxonomy or model inputs that are invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Writing part way through a run failed (a full disk, an output held by another run): the
    /// same command may succeed, and resumes where this one stopped.
    #[error("{message}")]
    Temporary {
        /// What failed, for the user.
        message: String,
    },
    /// An input could not be opened or read as a whole.
    #[error("{0}")]
    Input(String),
}

/// A `Result` whose error defaults to the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether a retry may cure it (the CLI's exit code 75).
    pub fn is_temporary(&self) -> bool {
        matches!(self, Error::Temporary { .. })
    }

    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
