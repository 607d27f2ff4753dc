//! lede: enrich CMS articles with their language, a teaser, keywords and topics.
//!
//! Two levels, as the `lede` binary uses them:
//! - [`Pipeline`]: the stages with their models loaded. Records in, outcomes out, in input order,
//!   streaming ([`Pipeline::enrich`]).
//! - [`Run`]: a whole batch, as `lede enrich` does it: inputs of any [format](formats::FORMATS), an
//!   [`Output`] (a stream, a file written atomically, the inputs in place, a folder, or a check),
//!   a journal to resume from, earlier work reused, duplicate ids, shards and the final counts,
//!   with progress reported through a callback ([`Event`]).
//!
//! ```
//! # fn main() -> lede::Result<()> {
//! use lede::{Event, Output, Pipeline, Run, RunOptions};
//!
//! let pipeline = Pipeline::builder().build()?;
//! let out = std::env::temp_dir().join(format!("lede-doc-{}.jsonl", std::process::id()));
//! let options = RunOptions::new(vec!["samples/articles.jsonl".into()], Output::File(out.clone()));
//! let mut done = 0;
//! let report = Run::open(options, &pipeline.options().fields)?.execute(&pipeline, |event| {
//!     if let Event::Progress(n) = event {
//!         done += n;
//!     }
//! })?;
//! assert_eq!(report.counts.failed, 0);
//! assert_eq!(report.counts.enriched, done);
//!
//! // Run again: every article is unchanged, so its enrichment is reused, not recomputed.
//! let options = RunOptions::new(vec!["samples/articles.jsonl".into()], Output::File(out.clone()));
//! let again = Run::open(options, &pipeline.options().fields)?.execute(&pipeline, |_| {})?;
//! assert_eq!(again.counts.reused, report.counts.enriched);
//! # std::fs::remove_file(out).ok();
//! # Ok(()) }
//! ```
//!
//! The modules follow the data: [`formats`] (read and write back), [`stages`] (language, sentences,
//! teaser, keywords, topics), [`model`] (the model store and embedders), [`run`] (the pipeline and
//! the run around it). `ARCHITECTURE.md` has the map.
#![warn(missing_docs)]
pub mod error;
pub mod formats;
pub mod model;
pub mod run;
pub mod stages;

pub use error::{Error, Result};
pub use run::{Event, Output, Pipeline, PipelineBuilder, Run, RunOptions, RunReport};
