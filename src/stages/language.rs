//! Language identification: the `LanguageDetector` stage trait and its lingua implementation.
use lingua::{LanguageDetector as Lingua, LanguageDetectorBuilder};
use serde::Serialize;

/// ISO 639-1 code (`und` when undetermined) and lingua's confidence for it, 0..1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectedLanguage {
    /// ISO 639-1 code in lower case (`en`, `pl`), or `und`.
    pub code: String,
    /// lingua's confidence in `code`, 0..1, rounded to 4 decimals; 0 when undetermined.
    pub confidence: f64,
}

impl DetectedLanguage {
    /// The `und` answer, with confidence 0: too short, too mixed or letterless to tell.
    pub fn undetermined() -> Self {
        DetectedLanguage {
            code: "und".to_string(),
            confidence: 0.0,
        }
    }

    /// Whether this is the `und` answer.
    pub fn is_undetermined(&self) -> bool {
        self.code == "und"
    }
}

/// The primary language subtag of a code, lower-cased ("pl-PL" -> "pl", "en_GB" -> "en"): what
/// per-language data (stopwords, word lists, lexicons, sentence rules) is filed under.
pub fn base_code(lang: &str) -> String {
    lang.split(['-', '_'])
        .next()
        .unwrap_or(lang)
        .to_ascii_lowercase()
}

/// The language stage: names the language of an article's text.
pub trait LanguageDetector: Send + Sync {
    /// The language of `text`, or `und` when it cannot be told.
    fn detect(&self, text: &str) -> DetectedLanguage;
    /// Describes the detector and its settings, for provenance and the config fingerprint.
    fn id(&self) -> String;
}

/// Settings of the lingua detector; see README "Language detection" for how they were chosen.
#[derive(Debug, Clone, Copy)]
pub struct LinguaOptions {
    /// Below this top confidence the answer is `und`: too short or too mixed to tell.
    pub min_confidence: f64,
    /// Fewer letters than this: `und` without asking the model.
    pub min_letters: usize,
    /// Only the first this many characters are examined (language does not change mid-article
    /// often enough to pay for reading megabytes).
    pub max_chars: usize,
}

impl Default for LinguaOptions {
    fn default() -> Self {
        // 0.10: the highest threshold that loses no correct answer on lingua's sentence and word-pair
        // test sets (close pairs such as hr/bs split the confidence, so higher ones hurt quickly).
        LinguaOptions {
            min_confidence: 0.10,
            min_letters: 2,
            max_chars: 4000,
        }
    }
}

/// The language stage on lingua, with every compiled-in language in high-accuracy mode.
pub struct LinguaDetector {
    detector: Lingua,
    options: LinguaOptions,
}

impl LinguaDetector {
    /// Builds the detector with its language models preloaded (a few milliseconds, once).
    pub fn new(options: LinguaOptions) -> Self {
        // All compiled-in languages (see Cargo.toml), high-accuracy mode. Preloading costs ~7 ms and
        // keeps the first detection from paying for the model decoding.
        let detector = LanguageDetectorBuilder::from_all_languages()
            .with_preloaded_language_models()
            .build();
        LinguaDetector { detector, options }
    }
}

fn prefix_chars(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

impl LanguageDetector for LinguaDetector {
    fn detect(&self, text: &str) -> DetectedLanguage {
        let sample = prefix_chars(text, self.options.max_chars);
        if sample.chars().filter(|c| c.is_alphabetic()).count() < self.options.min_letters {
            return DetectedLanguage::undetermined();
        }
        let values = self.detector.compute_language_confidence_values(sample);
        // A tie between the top two is a text too mixed or too short to tell.
        let tied = matches!((values.first(), values.get(1)), (Some((_, a)), Some((_, b))) if a - b <= f64::EPSILON);
        match values.first() {
            Some((lang, conf)) if !tied && *conf > 0.0 && *conf >= self.options.min_confidence => {
                DetectedLanguage {
                    code: lang.iso_code_639_1().to_string().to_lowercase(),
                    confidence: (conf * 10_000.0).round() / 10_000.0,
                }
            }
            _ => DetectedLanguage::undetermined(),
        }
    }

    fn id(&self) -> String {
        format!(
            "lingua-1.8.0(57-languages,high-accuracy,min_confidence={},max_chars={})",
            self.options.min_confidence, self.options.max_chars
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_or_letterless_text_is_undetermined() {
        let d = LinguaDetector::new(LinguaOptions::default());
        assert!(d.detect("").is_undetermined());
        assert!(d.detect("   12 345 !!! ").is_undetermined());
    }

    #[test]
    fn detects_polish_and_english() {
        let d = LinguaDetector::new(LinguaOptions::default());
        let pl = d.detect("Rosyjska inwazja na Ukrainę ożywiła NATO. Czy chińska presja stworzy azjatycki odpowiednik?");
        assert_eq!(pl.code, "pl");
        assert!(pl.confidence > 0.5, "{pl:?}");
        assert_eq!(
            d.detect("The Russian invasion of Ukraine has reinvigorated NATO.")
                .code,
            "en"
        );
    }
}
