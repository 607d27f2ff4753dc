//! lede: enrich CMS articles with their language, a teaser, keywords and topics.
//!
//! The library owns every stage (one module and one trait per stage); the `lede` binary owns flags,
//! I/O, progress and exit codes.
pub mod changes;
pub mod embed;
pub mod encoder;
pub mod enrich;
pub mod error;
pub mod html;
pub mod input;
pub mod jsonld;
pub mod keywords;
pub mod language;
pub mod markdown;
pub mod models;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod output;
pub mod segment;
pub mod shard;
pub mod state;
pub mod summary;
pub mod topics;
pub mod wxr;

pub use error::{Error, Result};
