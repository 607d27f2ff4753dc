//! Keyword (keyphrase) stage: candidate extraction and embedding-based selection.
//!
//! Pure logic, no model calls. The pipeline calls [`extract_candidates`] per article, embeds
//! the candidates' `surface` strings (batched across articles) plus the document, and passes
//! the L2-normalised vectors to [`select_keywords`].
//!
//! Candidates are spans of 1..=`ngram_max` content words inside one sentence that never cross
//! punctuation (commas, colons, quotes, brackets, dashes, ...), never start or end with a stopword
//! and contain no number-only or 1-character token; inside, only the connectors of a French noun
//! phrase ("boson de Higgs", "liberté de la presse") may stand between the words. Stopwords come
//! from the Stopwords-ISO lists in the `stop-words` crate (the only list set there that covers Polish; 58 languages); other
//! languages fall back to token-shape filtering only. Candidates are folded by a key made of
//! lower-cased, stemmed tokens (Snowball via `rust-stemmers`; a light suffix stripper for
//! Polish; lower-casing only elsewhere) and keep their most frequent surface form.
//!
//! Selection is KeyBERT-style: relevance = cosine(candidate, document) plus a small
//! first-position prior, then Maximal Marginal Relevance for diversity. Where a word-class lexicon
//! covers the language, candidates it rules out ([`word_class_misfits`]) are never selected.
//!
//! Over 800 lines on purpose: candidate rules (stopwords, calendar names, Polish endings) and
//! selection share the private `Token` and candidate aggregation types.

pub mod signals;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use crate::model::scorer::Scorer;
use crate::model::word_classes::{Classes, Lexicon, WordClass, WordClasses};
use crate::model::wordfreq::WordFrequencies;
use crate::stages::language::base_code;
use rust_stemmers::{Algorithm, Stemmer};
use unicode_segmentation::UnicodeSegmentation;

/// Options of the keyword stage.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KeywordOptions {
    /// Number of keywords returned.
    pub top_n: usize,
    /// Shortest candidate phrase, in words.
    pub ngram_min: usize,
    /// Longest candidate phrase, in words.
    pub ngram_max: usize,
    /// MMR trade-off: 0 = pure relevance, 1 = maximal diversity.
    pub diversity: f32,
    /// Cap on the candidates per article sent to the embedder (pre-ranked cheaply).
    pub max_candidates: usize,
    /// Weight of the first-position prior `1 / (1 + ln(1 + first_position / 10))` added to
    /// the cosine relevance (0 disables it).
    pub position_weight: f32,
    /// Weight of the in-article frequency signal `ln(1 + count) / ln(1 + max count)` added to
    /// the cosine relevance (0 disables it).
    pub frequency_weight: f32,
    /// Allow stopwords inside a phrase ("Bank of England"); never at its ends.
    pub inner_stopwords: bool,
    /// Weight of [`Candidate::head_ratio`] added to the relevance (0 disables it).
    pub head_weight: f32,
    /// A candidate's vector is pooled from its occurrences' token vectors in the article's own
    /// sentence passes (in context, no extra model work) instead of embedding it as a text of its
    /// own. Off by default: see benches/THROUGHPUT.md for what it does to speed and quality.
    /// (Left out of the config fingerprint while off, so default output stays as it was.)
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub in_context: bool,
    /// Two stages: rank every candidate in context (as `in_context`, from the sentence passes the
    /// article needs anyway), then embed only the best on their own and choose among them: this
    /// many, and never fewer than 3 x `top_n` (0: every candidate on its own, one stage). Same
    /// keyword quality at 1.6x the pipeline's speed: benches/THROUGHPUT.md.
    #[serde(skip_serializing_if = "is_zero")]
    pub shortlist: usize,
    /// A learnt scorer ([`signals`]) in place of the weighted sum: candidates are ranked by its
    /// logits (MMR, [`select_learnt`]), from their in-context vectors alone (no second embedding pass;
    /// `shortlist` and the weights above are not used).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "model_id")]
    pub scorer: Option<Arc<Scorer>>,
    /// How common words are in general, by language: one of the learnt scorer's signals (needed
    /// with `scorer` and `explain`; [`WordFrequencies::from_store`]).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "model_id")]
    pub frequencies: Option<Arc<WordFrequencies>>,
    /// Which parts of speech words can be ([`WordClasses::from_store`]): with them, in the
    /// languages they cover, no keyword is a lone adjective, adverb or verb form ("expensive",
    /// "zadowoleni"), nor a phrase ending in a verb ("Rada miasta przyjęła"): [`word_class_misfits`].
    /// `None` keeps every candidate. In the config fingerprint by language (the lexicon that
    /// judges the article's language), not here.
    #[serde(skip)]
    pub word_classes: Option<Arc<WordClasses>>,
    /// Adds each candidate's signals to the output (`keywords_explain`), for training scorers.
    #[serde(skip)]
    pub explain: bool,
}

/// The loaded models and data sets the options name by id in the config fingerprint.
trait ModelId {
    fn model_id(&self) -> &str;
}

impl ModelId for Scorer {
    fn model_id(&self) -> &str {
        self.id()
    }
}

impl ModelId for WordFrequencies {
    fn model_id(&self) -> &str {
        self.id()
    }
}

fn model_id<T: ModelId, S: serde::Serializer>(
    model: &Option<Arc<T>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match model {
        Some(m) => s.serialize_str(m.model_id()),
        None => s.serialize_none(),
    }
}

/// The keyword scorer shipped with lede (`models/keywords/scorer.json`), read once.
pub fn shipped_scorer() -> crate::Result<Arc<Scorer>> {
    static SHIPPED: OnceLock<Arc<Scorer>> = OnceLock::new();
    if let Some(scorer) = SHIPPED.get() {
        return Ok(scorer.clone());
    }
    const BYTES: &[u8] = include_bytes!("../../../models/keywords/scorer.json");
    let scorer = Arc::new(Scorer::built_in(
        "keyword-scorer",
        BYTES,
        signals::FEATURES,
    )?);
    Ok(SHIPPED.get_or_init(|| scorer).clone())
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Default for KeywordOptions {
    fn default() -> Self {
        Self {
            top_n: 10,
            ngram_min: 1,
            ngram_max: 3,
            diversity: 0.5,
            max_candidates: 150,
            position_weight: 0.1,
            frequency_weight: 0.5,
            inner_stopwords: false,
            head_weight: 0.3,
            in_context: false,
            shortlist: 30,
            // The learnt scorer ranks by default (better on every keyphrase set and on the samples:
            // benches/QUALITY.md). It is compiled in and its checksum tested, so it always loads.
            scorer: Some(shipped_scorer().expect("the built-in keyword scorer loads (tested)")),
            frequencies: None,
            word_classes: None,
            explain: false,
        }
    }
}

/// One candidate phrase of an article, deduplicated by its folded `key`.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Most frequent surface form as it appears in the text (first seen wins ties).
    pub surface: String,
    /// Folded key: lower-cased, stemmed tokens joined by single spaces.
    pub key: String,
    /// Occurrences of any surface form of this key.
    pub count: usize,
    /// Word-token index (0-based, over the whole article) of the first occurrence.
    pub first_position: usize,
    /// Word-token index of the last occurrence.
    pub last_position: usize,
    /// Number of tokens in the phrase, a French connector ("de", "l'") counting as one.
    pub words: usize,
    /// How often the phrase's last word ends a phrase in this article (not followed by another
    /// content word), 0..1. In languages whose modifiers come before the head noun ("neural
    /// network", "nowa linia") a word that never ends a phrase is a modifier, and a phrase ending
    /// in it is not a name for anything. 1 where the language does not put modifiers first.
    pub head_ratio: f32,
    /// Occurrences right after a number ("640 mln", "30 Prozent", "7,4 km"): units and counted
    /// things, rarely what an article is about.
    pub after_number: usize,
}

/// Every place `surface` occurs in `texts` as whole words (not inside a longer word): each text
/// with the byte range of the occurrence.
pub fn occurrences<'a>(
    surface: &str,
    texts: impl Iterator<Item = &'a str>,
) -> Vec<(&'a str, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    if surface.is_empty() {
        return out;
    }
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    for t in texts {
        for (i, _) in t.match_indices(surface) {
            let end = i + surface.len();
            if !word(t[..i].chars().next_back()) && !word(t[end..].chars().next()) {
                out.push((t, i..end));
            }
        }
    }
    out
}

/// A selected keyword.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Keyword {
    /// The phrase as it appears in the article (its most frequent surface form).
    pub text: String,
    /// Relevance, rounded to 4 decimals: by default cosine to the document plus the position,
    /// frequency and head-word signals; with the learnt scorer (`--keyword-ranker learned`), the
    /// probability it gives that the phrase is a keyphrase.
    pub score: f64,
}

// ---------------------------------------------------------------------------------------
// Language resources

/// ISO 639-1 codes that Stopwords-ISO (stop-words 0.8, default `iso` feature) covers;
/// `stop_words::get` panics on any other code, so we check first.
const ISO_STOPWORD_LANGS: &[&str] = &[
    "af", "ar", "bg", "bn", "br", "ca", "cs", "da", "de", "el", "en", "eo", "es", "et", "eu", "fa",
    "fi", "fr", "ga", "gl", "gu", "ha", "he", "hi", "hr", "hu", "hy", "id", "it", "ja", "ko", "ku",
    "la", "lt", "lv", "mr", "ms", "nl", "no", "pl", "pt", "ro", "ru", "sk", "sl", "so", "st", "sv",
    "sw", "th", "tl", "tr", "uk", "ur", "vi", "yo", "zh", "zu",
];

/// Content words that the long Stopwords-ISO English list includes (it merges web/frequency
/// lists) but that head or modify real keyphrases ("interest rate", "computer vision",
/// "control system"); they are not treated as stopwords.
const EN_ISO_CONTENT: &[&str] = &[
    "area",
    "areas",
    "bill",
    "billion",
    "case",
    "cases",
    "computer",
    "course",
    "date",
    "detail",
    "effect",
    "example",
    "face",
    "faces",
    "fact",
    "facts",
    "fire",
    "general",
    "group",
    "groups",
    "home",
    "homepage",
    "importance",
    "index",
    "information",
    "interest",
    "interests",
    "invention",
    "keys",
    "length",
    "line",
    "man",
    "member",
    "members",
    "men",
    "microsoft",
    "million",
    "name",
    "net",
    "netscape",
    "novel",
    "number",
    "numbers",
    "order",
    "orders",
    "page",
    "pages",
    "part",
    "parts",
    "place",
    "places",
    "point",
    "points",
    "problem",
    "problems",
    "research",
    "ring",
    "room",
    "rooms",
    "section",
    "site",
    "state",
    "states",
    "system",
    "test",
    "text",
    "thousand",
    "trillion",
    "value",
    "web",
    "webpage",
    "website",
    "wells",
    "words",
    "work",
    "world",
    "year",
    "years",
    "young",
    "zero",
    "big",
    "great",
    "high",
    "large",
    "small",
    "old",
    "new",
    "free",
    "full",
    "open",
    "low",
    "long",
    "bottom",
    "front",
    "side",
    "sides",
    "end",
    "copy",
    "cry",
    "mug",
    "tip",
    "thick",
    "thin",
    "width",
    "top",
    "tv",
    "uk",
    "html",
    "http",
    "www",
    "amount",
    "act",
    "changes",
    "caption",
];

fn stopwords(lang: &str) -> &'static HashSet<String> {
    static CACHE: OnceLock<std::sync::Mutex<HashMap<String, &'static HashSet<String>>>> =
        OnceLock::new();
    let lang = base_code(lang);
    let lang = match lang.as_str() {
        "nb" | "nn" => "no".to_string(),
        _ => lang,
    };
    let cache = CACHE.get_or_init(Default::default);
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(set) = map.get(&lang) {
        return set;
    }
    let set: HashSet<String> = if ISO_STOPWORD_LANGS.contains(&lang.as_str()) {
        let keep: &[&str] = if lang == "en" { EN_ISO_CONTENT } else { &[] };
        stop_words::get(lang.as_str())
            .into_iter()
            .map(|w| w.trim().to_lowercase())
            .filter(|w| !w.is_empty() && !keep.contains(&w.as_str()))
            .collect()
    } else {
        HashSet::new()
    };
    let leaked: &'static HashSet<String> = Box::leak(Box::new(set));
    map.insert(lang, leaked);
    leaked
}

fn snowball(lang: &str) -> Option<Algorithm> {
    Some(match lang {
        "ar" => Algorithm::Arabic,
        "da" => Algorithm::Danish,
        "nl" => Algorithm::Dutch,
        "en" => Algorithm::English,
        "fi" => Algorithm::Finnish,
        "fr" => Algorithm::French,
        "de" => Algorithm::German,
        "el" => Algorithm::Greek,
        "hu" => Algorithm::Hungarian,
        "it" => Algorithm::Italian,
        "no" | "nb" | "nn" => Algorithm::Norwegian,
        "pt" => Algorithm::Portuguese,
        "ro" => Algorithm::Romanian,
        "ru" => Algorithm::Russian,
        "es" => Algorithm::Spanish,
        "sv" => Algorithm::Swedish,
        "ta" => Algorithm::Tamil,
        "tr" => Algorithm::Turkish,
        _ => return None,
    })
}

/// The glibc locale whose calendar names stand for a language (ISO 639-1): `pl` -> `pl_PL`, with
/// the codes whose main country is spelt otherwise listed.
fn calendar_locale(lang: &str) -> Option<pure_rust_locales::Locale> {
    let name = match lang {
        "en" => "en_GB".to_string(),
        "uk" => "uk_UA".into(),
        "cs" => "cs_CZ".into(),
        "sv" => "sv_SE".into(),
        "da" => "da_DK".into(),
        "el" => "el_GR".into(),
        "et" => "et_EE".into(),
        "sl" => "sl_SI".into(),
        "ca" => "ca_ES".into(),
        "no" | "nb" => "nb_NO".into(),
        "nn" => "nn_NO".into(),
        "sr" => "sr_RS".into(),
        "ga" => "ga_IE".into(),
        "ko" => "ko_KR".into(),
        "ja" => "ja_JP".into(),
        "zh" => "zh_CN".into(),
        "vi" => "vi_VN".into(),
        "he" => "he_IL".into(),
        "fa" => "fa_IR".into(),
        "hi" => "hi_IN".into(),
        "ar" => "ar_EG".into(),
        _ => format!("{lang}_{}", lang.to_uppercase()),
    };
    pure_rust_locales::Locale::try_from(name.as_str()).ok()
}

/// Folded keys of the names of weekdays and months in a language (glibc's locale data, through
/// `pure-rust-locales`; months in both their forms where the language inflects them, as Polish
/// "stycznia" / "styczeń"). A date says when, not what an article is about: "Montag", "czwartek
/// plan budowy" and "portes samedi" are not keyphrases, so these words are treated as stopwords.
fn calendar_keys(lang: &str, folder: &Folder) -> HashSet<String> {
    use pure_rust_locales::locale_match;
    let Some(locale) = calendar_locale(lang) else {
        return HashSet::new();
    };
    let days: &[&str] = locale_match!(locale => LC_TIME::DAY);
    let months: &[&str] = locale_match!(locale => LC_TIME::MON);
    let alt: Option<&[&str]> = locale_match!(locale => LC_TIME::ALT_MON);
    days.iter()
        .chain(months)
        .chain(alt.unwrap_or_default())
        .map(|w| w.trim().to_lowercase())
        // One-letter or multi-word names (some locales) are not words to match.
        .filter(|w| w.chars().count() >= 3 && !w.contains(char::is_whitespace))
        .map(|w| folder.fold(&w))
        .collect()
}

/// Case endings that only Polish adjectives (and participles and pronouns) take, never nouns:
/// genitive/locative plural "-ych/-ich", instrumental plural "-ymi/-imi", masculine genitive
/// "-ego", feminine genitive/dative/locative "-nej/-wej/-kiej" and the like. Lower-case words only:
/// a capitalised one may be a name ("Kowalskiego").
fn is_polish_adjective_form(surface: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "ych", "ich", "ymi", "imi", "ego", "nej", "wej", "kiej", "czej", "tej", "łej", "zej",
    ];
    surface.chars().count() >= 5
        && surface.starts_with(char::is_lowercase)
        && ENDINGS.iter().any(|e| surface.ends_with(e))
}

/// Polish impersonal past forms ("przedstawiono", "wykazano", "przyjęto"): the verbs of a report's
/// method section, never part of a keyphrase; treated as stopwords.
fn is_polish_impersonal_verb(lower: &str) -> bool {
    lower.chars().count() >= 7 && ["ono", "ano", "ęto"].iter().any(|e| lower.ends_with(e))
}

/// Polish infinitives ("kosztować", "budować", "zacząć", "widzieć"): a verb, never a keyphrase;
/// treated as stopwords. Plain "-eć" is left out: "sieć", "płeć" are nouns (and "-ość" nouns end in
/// "ć" too).
fn is_polish_infinitive(lower: &str) -> bool {
    lower.chars().count() >= 5
        && ["ać", "ić", "yć", "ąć", "uć", "ieć"]
            .iter()
            .any(|e| lower.ends_with(e))
}

/// Polish cardinal numerals spelt out ("dwudziestu", "piętnaście", "czterdzieści"): how many, not
/// what; treated as stopwords. Only endings no noun shares ("-stu" alone would take "tekstu").
fn is_polish_numeral(lower: &str) -> bool {
    [
        "naście",
        "nastu",
        "dzieścia",
        "dzieści",
        "dziestu",
        "dziesiąt",
        "dziesięciu",
    ]
    .iter()
    .any(|e| lower.ends_with(e))
}

/// Folds one lower-cased word to its stem key.
enum Folder {
    Snowball(Stemmer),
    Polish,
    Lowercase,
}

impl Folder {
    fn new(lang: &str) -> Self {
        match lang {
            "pl" => Folder::Polish,
            _ => snowball(lang).map_or(Folder::Lowercase, |a| Folder::Snowball(Stemmer::create(a))),
        }
    }

    /// Stem each hyphen-separated part of a lower-cased word.
    fn fold(&self, lower: &str) -> String {
        lower
            .split('-')
            .map(|part| match self {
                Folder::Snowball(s) => s.stem(part).into_owned(),
                Folder::Polish => stem_polish(part),
                Folder::Lowercase => part.to_string(),
            })
            .collect::<Vec<_>>()
            .join("-")
    }
}

/// Polish inflectional endings (nouns, adjectives, a few verb forms), longest first (in
/// characters: the stemmer takes the first that fits; a test keeps the order).
const PL_ENDINGS: &[&str] = &[
    "ościami", "ościach", "owego", "owemu", "owych", "owymi", "owej", "owym", "ości", "owie",
    "ość", "ach", "ami", "ego", "emu", "ych", "ymi", "ich", "imi", "owi", "owa", "owe", "owy",
    "ową", "ów", "om", "em", "ej", "ie", "ym", "im", "ą", "ę", "a", "e", "i", "y", "o", "u",
];

/// Light Polish stemmer: strip the longest inflectional ending that leaves at least 3
/// characters, then one trailing softness marker `i`/`j` (so "inflacja", "inflacji",
/// "inflację", "inflacjami" all give "inflac"). Consistent rather than linguistic:
/// consonant alternations ("Polska"/"Polsce") are not undone.
pub(crate) fn stem_polish(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let n = chars.len();
    if n <= 3 {
        return word.to_string();
    }
    let mut best = n;
    for e in PL_ENDINGS {
        let el = e.chars().count();
        if n >= el + 3 && word.ends_with(e) {
            best = n - el;
            break;
        }
    }
    let mut stem: Vec<char> = chars[..best].to_vec();
    if stem.len() > 3 && matches!(stem.last(), Some('i') | Some('j')) {
        stem.pop();
    }
    stem.into_iter().collect()
}

// ---------------------------------------------------------------------------------------
// Tokenisation

#[derive(Debug, Clone)]
struct Token {
    surface: String,
    lower: String,
    /// Content word: may start/end a phrase.
    content: bool,
    /// Stopword: may only sit inside a phrase.
    stop: bool,
    /// Elided article ("l'", "d'"): glue to the next word without a space.
    elided: bool,
}

fn is_hyphen(s: &str) -> bool {
    matches!(s, "-" | "\u{2010}" | "\u{2011}")
}

/// Digits and no letters: "640", "7,4", "15.02.2026".
fn is_number(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit()) && !s.chars().any(char::is_alphabetic)
}

fn is_wordlike(s: &str) -> bool {
    s.chars().any(char::is_alphanumeric)
}

/// Split a sentence into runs of tokens; a run ends at any punctuation or symbol.
fn runs(sentence: &str) -> Vec<Vec<(usize, String)>> {
    let segs: Vec<(usize, &str)> = sentence.split_word_bound_indices().collect();
    let mut out: Vec<Vec<(usize, String)>> = Vec::new();
    let mut cur: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while i < segs.len() {
        let (off, s) = segs[i];
        if is_wordlike(s) {
            // Join hyphenated compounds written without spaces: "COVID-19", "Indo-Pacific".
            let mut word = s.to_string();
            let mut end = off + s.len();
            while i + 2 < segs.len()
                && is_hyphen(segs[i + 1].1)
                && segs[i + 1].0 == end
                && is_wordlike(segs[i + 2].1)
                && segs[i + 2].0 == end + segs[i + 1].1.len()
            {
                word.push('-');
                word.push_str(segs[i + 2].1);
                end = segs[i + 2].0 + segs[i + 2].1.len();
                i += 2;
            }
            // A period inside the sentence right after a word marks an abbreviation ("Dr.", "Mio.",
            // "np."): not a keyword, and the phrase ends there.
            let abbreviation = segs.get(i + 1).is_some_and(|&(o, p)| p == "." && o == end)
                && !sentence[end + 1..].trim().is_empty();
            if abbreviation {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                i += 1;
                continue;
            }
            cur.push((off, word));
        } else if !s.chars().all(char::is_whitespace) && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        i += 1;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}')
}

fn elision_lang(lang: &str) -> bool {
    matches!(lang, "fr" | "it" | "ca")
}

struct LangCtx {
    lang: String,
    stop: &'static HashSet<String>,
    folder: Folder,
    calendar: HashSet<String>,
    /// Each distinct lower-cased word folded once per article: the calendar check and the
    /// candidates' keys share it.
    folded: RefCell<HashMap<String, String>>,
}

impl LangCtx {
    fn new(lang: &str) -> Self {
        let lang = base_code(lang);
        let folder = Folder::new(&lang);
        Self {
            stop: stopwords(&lang),
            calendar: calendar_keys(&lang, &folder),
            folder,
            lang,
            folded: RefCell::new(HashMap::new()),
        }
    }

    /// The stem key of a lower-cased word (`Folder::fold`), memoised.
    fn fold(&self, lower: &str) -> String {
        self.folded
            .borrow_mut()
            .entry(lower.to_string())
            .or_insert_with(|| self.folder.fold(lower))
            .clone()
    }

    fn token(&self, surface: &str, caps_sentence: bool) -> Token {
        let lower = surface.to_lowercase();
        let letters = surface.chars().filter(|c| c.is_alphabetic()).count();
        let chars = surface.chars().count();
        let all_caps = letters >= 2
            && !caps_sentence
            && surface
                .chars()
                .filter(|c| c.is_alphabetic())
                .all(char::is_uppercase);
        // An all-caps acronym ("US", "IT", "WHO") is not the stopword it spells.
        let stop = !all_caps
            && (self.stop.contains(&lower)
                || (self.lang == "pl"
                    && (is_polish_impersonal_verb(&lower)
                        || is_polish_infinitive(&lower)
                        || is_polish_numeral(&lower)))
                || (!self.calendar.is_empty() && self.calendar.contains(&self.fold(&lower))));
        let shape_ok = chars >= 2 && letters >= 1;
        Token {
            surface: surface.to_string(),
            lower,
            content: shape_ok && !stop,
            stop,
            elided: false,
        }
    }

    /// Whether the last token of `span` (a stopword) joins the nouns around it into one noun
    /// phrase. French names things "N de N" where English writes "N N": "boson de Higgs",
    /// "liberté de la presse", "analyse de l'ADN", "centres de détention" (13 % of WikiNews-fr's
    /// gold keyphrases); so "de", "du", "des" and "d'" after a content word, and "la" or "l'"
    /// after that "de", may sit inside a phrase (never at its end: phrases end on content words).
    fn connects(&self, span: &[Token]) -> bool {
        if self.lang != "fr" || span.len() < 2 {
            return false;
        }
        let (before, t) = (&span[span.len() - 2], &span[span.len() - 1]);
        match t.lower.as_str() {
            "de" | "du" | "des" | "d" => before.content,
            "la" | "l" => before.lower == "de" && !before.content,
            _ => false,
        }
    }

    fn tokens(&self, run: &[(usize, String)], caps_sentence: bool) -> Vec<Token> {
        let mut out = Vec::with_capacity(run.len());
        for (_, w) in run {
            let mut w = w.as_str();
            // English possessive: "Fincher's" -> "Fincher".
            if self.lang == "en" {
                for suf in ["'s", "\u{2019}s", "'S", "\u{2019}S"] {
                    if w.len() > suf.len() + 1 {
                        if let Some(stripped) = w.strip_suffix(suf) {
                            w = stripped;
                            break;
                        }
                    }
                }
                w = w.trim_end_matches(is_apostrophe);
            }
            if elision_lang(&self.lang) {
                if let Some((pos, c)) = w.char_indices().find(|&(_, c)| is_apostrophe(c)) {
                    let head = &w[..pos];
                    let tail = &w[pos + c.len_utf8()..];
                    if !tail.is_empty() && head.chars().count() <= 5 {
                        out.push(Token {
                            surface: w[..pos + c.len_utf8()].to_string(),
                            lower: head.to_lowercase(),
                            content: false,
                            stop: true,
                            elided: true,
                        });
                        w = tail;
                    }
                }
            }
            if !w.is_empty() {
                out.push(self.token(w, caps_sentence));
            }
        }
        out
    }
}

/// Languages whose adjectives and noun modifiers normally come before the noun.
const MODIFIER_FIRST_LANGS: &[&str] = &["en", "de", "nl", "da", "sv", "no", "nb", "nn", "is"];

fn is_caps_sentence(sentence: &str) -> bool {
    let (mut up, mut all) = (0usize, 0usize);
    for c in sentence.chars().filter(|c| c.is_alphabetic()) {
        all += 1;
        if c.is_uppercase() {
            up += 1;
        }
    }
    all >= 8 && up * 10 >= all * 8
}

// ---------------------------------------------------------------------------------------
// Candidates

struct Agg {
    surfaces: Vec<(String, usize)>, // (surface, count) in first-seen order
    count: usize,
    first_position: usize,
    last_position: usize,
    words: usize,
    after_number: usize,
}

/// Cheap pre-rank used for the `max_candidates` cap and the candidate order:
/// frequency, boosted for multi-word phrases, damped by first position.
fn pre_score(c: &Candidate) -> f64 {
    let len_boost = 1.0 + 0.5 * (c.words.saturating_sub(1)) as f64;
    (c.count as f64) * len_boost / (1.0 + (1.0 + c.first_position as f64 / 50.0).ln())
}

/// The title's words as candidate keys spell them (content words stemmed, stopwords lower-cased), so
/// a candidate's key can be looked up word by word: a phrase in the title is what the editor said the
/// article is about.
#[must_use]
pub fn title_words(title: &str, lang: &str) -> HashSet<String> {
    let ctx = LangCtx::new(lang);
    let caps = is_caps_sentence(title);
    runs(title)
        .iter()
        .flat_map(|run| ctx.tokens(run, caps))
        .map(|t| {
            if t.content {
                ctx.fold(&t.lower)
            } else {
                t.lower
            }
        })
        .collect()
}

/// Extract candidate phrases from an article's sentences (in order). Deduplicated by folded
/// key, sorted by a cheap pre-rank (ties: earlier first occurrence, then key), capped at
/// `options.max_candidates`. Deterministic.
#[must_use]
pub fn extract_candidates(
    sentences: &[&str],
    lang: &str,
    options: &KeywordOptions,
) -> Vec<Candidate> {
    let ctx = LangCtx::new(lang);
    let nmax = options.ngram_max.max(1);
    let mut aggs: HashMap<String, Agg> = HashMap::new();
    let nouns_capitalised = ctx.lang == "de";
    // Folded word -> (occurrences, occurrences that end a phrase).
    let mut heads: HashMap<String, (usize, usize)> = HashMap::new();
    let mut position = 0usize;
    for sentence in sentences {
        let caps = is_caps_sentence(sentence);
        for run in runs(sentence) {
            let toks = ctx.tokens(&run, caps);
            for i in 0..toks.len() {
                if !toks[i].content {
                    continue;
                }
                let after_number = toks[..i]
                    .iter()
                    .rev()
                    .find(|t| !t.elided)
                    .is_some_and(|t| is_number(&t.surface));
                let head = heads.entry(ctx.fold(&toks[i].lower)).or_default();
                head.0 += 1;
                if toks.get(i + 1).is_none_or(|next| !next.content) {
                    head.1 += 1;
                }
                // Phrases hold at most `nmax` content words, and the stopwords between them
                // (`inner_stopwords`, or the connectors of a French noun phrase) at most two more.
                let mut content_words = 0;
                for j in i..toks.len().min(i + nmax + 2) {
                    let t = &toks[j];
                    if t.content {
                        content_words += 1;
                        if content_words > nmax {
                            break;
                        }
                    } else if !((t.stop && options.inner_stopwords) || ctx.connects(&toks[i..=j])) {
                        break;
                    }
                    if !t.content || content_words < options.ngram_min {
                        continue;
                    }
                    // German capitalises every noun: a phrase ending in a lower-case word ends in
                    // a verb, adjective or adverb, not in what it names.
                    if nouns_capitalised && !caps && !t.surface.starts_with(char::is_uppercase) {
                        continue;
                    }
                    // Polish: an adjective alone ("technologicznej", "pomiarowych") is not a
                    // keyphrase, though it ends one ("linii tramwajowej").
                    if ctx.lang == "pl" && j == i && is_polish_adjective_form(&t.surface) {
                        continue;
                    }
                    let span = &toks[i..=j];
                    let mut key = String::new();
                    let mut surface = String::new();
                    for (k, tok) in span.iter().enumerate() {
                        if k > 0 {
                            key.push(' ');
                            if !span[k - 1].elided {
                                surface.push(' ');
                            }
                        }
                        surface.push_str(&tok.surface);
                        if tok.content {
                            key.push_str(&ctx.fold(&tok.lower));
                        } else {
                            key.push_str(&tok.lower);
                        }
                    }
                    let agg = aggs.entry(key).or_insert_with(|| Agg {
                        surfaces: Vec::new(),
                        count: 0,
                        first_position: position + i,
                        last_position: position + i,
                        words: span.len(),
                        after_number: 0,
                    });
                    agg.count += 1;
                    agg.after_number += usize::from(after_number);
                    agg.last_position = position + i;
                    match agg.surfaces.iter_mut().find(|(s, _)| *s == surface) {
                        Some(e) => e.1 += 1,
                        None => agg.surfaces.push((surface, 1)),
                    }
                }
            }
            position += toks.len();
        }
    }
    let modifiers_first = MODIFIER_FIRST_LANGS.contains(&ctx.lang.as_str());
    let mut cands: Vec<Candidate> = aggs
        .into_iter()
        .map(|(key, a)| {
            let last = key.rsplit(' ').next().unwrap_or("");
            let head_ratio = match heads.get(last) {
                Some(&(n, ends)) if modifiers_first && n > 0 => ends as f32 / n as f32,
                _ => 1.0,
            };
            let mut best = &a.surfaces[0];
            for s in &a.surfaces[1..] {
                if s.1 > best.1 {
                    best = s;
                }
            }
            Candidate {
                surface: best.0.clone(),
                key,
                count: a.count,
                first_position: a.first_position,
                last_position: a.last_position,
                words: a.words,
                head_ratio,
                after_number: a.after_number,
            }
        })
        .collect();
    cands.sort_by(|a, b| {
        pre_score(b)
            .partial_cmp(&pre_score(a))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.first_position.cmp(&b.first_position))
            .then(a.words.cmp(&b.words))
            .then(a.key.cmp(&b.key))
    });
    cands.truncate(options.max_candidates);
    cands
}

// ---------------------------------------------------------------------------------------
// Selection

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn position_prior(first_position: usize) -> f32 {
    1.0 / (1.0 + (1.0 + first_position as f32 / 10.0).ln())
}

/// Each candidate's relevance before diversity: cosine to the article plus the head-word,
/// first-position and frequency signals (weights in [`KeywordOptions`]).
pub fn relevance(
    candidates: &[Candidate],
    candidate_vecs: &[Vec<f32>],
    doc_vec: &[f32],
    options: &KeywordOptions,
) -> Vec<f32> {
    let max_count = candidates.iter().map(|c| c.count).max().unwrap_or(1).max(1);
    let log_max = (max_count as f32).ln_1p();
    candidates
        .iter()
        .zip(candidate_vecs)
        .map(|(c, v)| {
            let freq = if max_count > 1 {
                (c.count as f32).ln_1p() / log_max
            } else {
                1.0
            };
            dot(v, doc_vec)
                + options.head_weight * c.head_ratio
                + options.position_weight * position_prior(c.first_position)
                + options.frequency_weight * freq
        })
        .collect()
}

/// The `size` most relevant candidates by `relevance` (ties: earlier candidate), as a mask.
pub fn shortlist(
    candidates: &[Candidate],
    candidate_vecs: &[Vec<f32>],
    doc_vec: &[f32],
    options: &KeywordOptions,
    size: usize,
    eligible: Option<&[bool]>,
) -> Vec<bool> {
    let rel = relevance(candidates, candidate_vecs, doc_vec, options);
    let mut order: Vec<usize> = (0..rel.len())
        .filter(|&i| is_eligible(eligible, i))
        .collect();
    order.sort_by(|&a, &b| rel[b].total_cmp(&rel[a]).then(a.cmp(&b)));
    let mut mask = vec![false; rel.len()];
    order.into_iter().take(size).for_each(|i| mask[i] = true);
    mask
}

/// Whether candidate `i` may be picked: every one without a mask, else those it marks.
pub fn is_eligible(eligible: Option<&[bool]>, i: usize) -> bool {
    eligible.is_none_or(|e| e.get(i).copied().unwrap_or(false))
}

/// Pick `top_n` keywords: relevance = cosine(candidate, document) + `position_weight` x
/// first-position prior + `frequency_weight` x normalised log frequency; Maximal Marginal Relevance with `diversity` (0 = pure relevance).
/// `candidate_vecs[i]` belongs to `candidates[i]`; vectors are L2-normalised. Returned in
/// selection order; ties go to the earlier candidate. Scores are the relevance, rounded to
/// 4 decimals.
#[must_use]
pub fn select_keywords(
    candidates: &[Candidate],
    candidate_vecs: &[Vec<f32>],
    doc_vec: &[f32],
    options: &KeywordOptions,
) -> Vec<Keyword> {
    select_keywords_among(candidates, candidate_vecs, doc_vec, options, None)
}

/// `select_keywords` choosing only among the candidates marked `eligible` (the others still
/// count for the frequency scale, so a score does not depend on which were eligible).
pub fn select_keywords_among(
    candidates: &[Candidate],
    candidate_vecs: &[Vec<f32>],
    doc_vec: &[f32],
    options: &KeywordOptions,
    eligible: Option<&[bool]>,
) -> Vec<Keyword> {
    let n = candidates.len().min(candidate_vecs.len());
    if n == 0 || options.top_n == 0 {
        return Vec::new();
    }
    let rel = relevance(&candidates[..n], candidate_vecs, doc_vec, options);
    select_by_relevance(candidates, candidate_vecs, &rel, &rel, options, eligible)
}

/// MMR over candidates whose relevance is already known (`rel[i]` for `candidates[i]`); each
/// keyword's score is its `shown` value.
pub fn select_by_relevance(
    candidates: &[Candidate],
    candidate_vecs: &[Vec<f32>],
    rel: &[f32],
    shown: &[f32],
    options: &KeywordOptions,
    eligible: Option<&[bool]>,
) -> Vec<Keyword> {
    let n = candidates.len().min(candidate_vecs.len()).min(rel.len());
    if n == 0 || options.top_n == 0 {
        return Vec::new();
    }
    let lambda = 1.0 - options.diversity.clamp(0.0, 1.0);
    // max similarity of each candidate to the already selected ones
    let mut max_sim = vec![f32::NEG_INFINITY; n];
    let mut taken: Vec<bool> = (0..n).map(|i| !is_eligible(eligible, i)).collect();
    let mut out = Vec::with_capacity(options.top_n.min(n));
    for step in 0..options.top_n.min(n) {
        let mut best: Option<(usize, f32)> = None;
        for i in 0..n {
            if taken[i] {
                continue;
            }
            let score = if step == 0 {
                rel[i]
            } else {
                lambda * rel[i] - (1.0 - lambda) * max_sim[i]
            };
            if best.is_none_or(|(_, b)| score > b) {
                best = Some((i, score));
            }
        }
        let Some((pick, _)) = best else { break };
        taken[pick] = true;
        for i in 0..n {
            if !taken[i] && is_part_of_name(&candidates[i], &candidates[pick]) {
                taken[i] = true;
            }
        }
        for i in 0..n {
            if !taken[i] {
                let s = dot(&candidate_vecs[i], &candidate_vecs[pick]);
                if s > max_sim[i] {
                    max_sim[i] = s;
                }
            }
        }
        out.push(Keyword {
            text: candidates[pick].surface.clone(),
            score: (f64::from(shown[pick]) * 10_000.0).round() / 10_000.0,
        });
    }
    out
}

/// Whether `part` is a piece of the name `whole` and never said without it: a capitalised phrase
/// inside `whole` whose every occurrence is one of `whole`'s ("Francisco" once "San Francisco" is a
/// keyword, "Démocratie" beside "Nouvelle Démocratie"). Counts hold nested occurrences too, and each
/// of `whole`'s holds one of `part`'s, so `part` occurring no more often than `whole` means always
/// inside it. Lower-case words are left to the scorer: gold lists keep "gouvernement" beside
/// "nouveau gouvernement" often enough that dropping them loses (benches/QUALITY.md).
fn is_part_of_name(part: &Candidate, whole: &Candidate) -> bool {
    part.count <= whole.count
        && part.words < whole.words
        && part
            .surface
            .split_whitespace()
            .all(|w| w.starts_with(char::is_uppercase))
        && format!(" {} ", whole.key).contains(&format!(" {} ", part.key))
}

/// Verbal nouns, which the lexicons file under verbs: English "-ing" forms read only as verbs
/// ("lending", "filtering"; not "interesting", an adjective too) and Polish gerunds ("nagniatanie",
/// "ekranowania", "zebrań": their "-nie"/"-cie" form is in the verb list, which "zmienia" has not).
fn is_verbal_noun(lang: &str, word: &str, classes: Classes, lexicon: &Lexicon) -> bool {
    const POLISH: &[(&str, &str)] = &[
        ("nie", "nie"),
        ("nia", "nie"),
        ("niu", "nie"),
        ("niem", "nie"),
        ("niom", "nie"),
        ("niach", "nie"),
        ("niami", "nie"),
        ("ń", "nie"),
        ("cie", "cie"),
        ("cia", "cie"),
        ("ciu", "cie"),
        ("ciem", "cie"),
        ("ciom", "cie"),
        ("ciach", "cie"),
        ("ciami", "cie"),
        // A "-cie" gerund's genitive plural is spelled like an infinitive ("zamachnięć",
        // "znaleźć"), and many infinitives' stem + "cie" is a finite form ("znaleźcie",
        // "robicie"): checked against the gerund's instrumental ("zamachnięciem"), which no
        // infinitive has.
        ("ć", "ciem"),
    ];
    if !classes.only(WordClass::Verb) {
        return false;
    }
    match lang {
        "en" => word.ends_with("ing"),
        "pl" => POLISH.iter().any(|(ending, nominative)| {
            word.strip_suffix(ending).is_some_and(|stem| {
                lexicon
                    .classes(&format!("{stem}{nominative}"))
                    .can_be(WordClass::Verb)
            })
        }),
        _ => false,
    }
}

/// Which candidates cannot be keywords by their words' classes (`true` = misfit): a lone word
/// that is never a noun (an adjective, adverb or verb form: "expensive", "zadowoleni",
/// "przepełnione") and, in Polish and French, a phrase whose last word is only ever a verb ("Rada
/// miasta przyjęła", "SMIC augmentera"). Only lower-case words are judged (a capitalised one may
/// be a name) and only words the lexicon knows; verbal nouns ([`is_verbal_noun`]) count as nouns.
/// A French noun phrase often ends in a participle, but Lefff also files those as adjectives
/// ("marché couvert", "fin programmée"), so "only a verb" leaves them be. English phrases are not
/// judged by their last word: WordNet lacks nouns such as "transform" in "Fourier transform".
pub fn word_class_misfits(candidates: &[Candidate], lexicon: &Lexicon, lang: &str) -> Vec<bool> {
    let lang = base_code(lang);
    // Capitalised words are not looked up at all: most candidates are names.
    let judged = |word: &str, misfit: &dyn Fn(Classes) -> bool| {
        word.starts_with(char::is_lowercase) && {
            let classes = lexicon.classes(word);
            misfit(classes) && !is_verbal_noun(&lang, word, classes, lexicon)
        }
    };
    candidates
        .iter()
        .map(|c| {
            let words: Vec<&str> = c.surface.split_whitespace().collect();
            match words.as_slice() {
                [one] => judged(one, &|cl| cl.known() && !cl.can_be(WordClass::Noun)),
                [.., last] if lang == "pl" || lang == "fr" => {
                    judged(last, &|cl| cl.only(WordClass::Verb))
                }
                _ => false,
            }
        })
        .collect()
}

/// Picks keywords with a learnt scorer: MMR on its logits (on the scale where a unit is a real
/// difference in evidence, so diversity breaks near-ties instead of overruling the model), each
/// keyword scored with the probability the scorer gives that it is a keyphrase. `vecs` are the
/// candidates' in-context vectors; only candidates marked `eligible` are picked (all: `None`).
pub fn select_learnt(
    candidates: &[Candidate],
    vecs: &[Vec<f32>],
    article: &signals::Article,
    scorer: &Scorer,
    options: &KeywordOptions,
    eligible: Option<&[bool]>,
) -> Vec<Keyword> {
    let logits: Vec<f32> = signals::signals(candidates, vecs, article)
        .iter()
        .zip(vecs)
        .map(|(row, vec)| scorer.score(row, vec))
        .collect();
    let probabilities: Vec<f32> = logits.iter().map(|l| 1.0 / (1.0 + (-l).exp())).collect();
    select_by_relevance(candidates, vecs, &logits, &probabilities, options, eligible)
}

#[cfg(test)]
mod tests;
