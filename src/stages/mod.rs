//! The pipeline's stages, in the order an article meets them: language, sentences, then (from the
//! sentences' vectors) the teaser, keywords and topics. Each stage is one module with its trait.
pub mod keywords;
pub mod language;
pub mod segment;
pub mod summary;
pub mod topics;
