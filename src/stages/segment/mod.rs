//! The one sentence segmenter every stage uses.
//!
//! Rule-based, single pass, no allocation per character: paragraphs (blank-line separated)
//! are split independently; inside a paragraph a sentence ends at terminal punctuation
//! (plus any closing quotes/brackets) unless the next word starts in lower case or the
//! word before a '.' is an abbreviation, initial, enumerator or ordinal for the language.
//! A line with no final punctuation (heading, list item, byline) ends a sentence too.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// A sentence of the input text; `start..end` are byte offsets of the (trimmed) `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    /// The sentence, trimmed of surrounding whitespace and zero-width characters.
    pub text: String,
    /// Byte offset in the input where `text` starts.
    pub start: usize,
    /// Byte offset in the input just past the end of `text`.
    pub end: usize,
    /// Index among the paragraphs that produced sentences (0, 1, 2, ... without gaps).
    pub paragraph: usize,
}

/// Split `text` into sentences; `lang` is an ISO 639-1 code ("en", "pl-PL" also works) or
/// "und", which uses language-neutral rules.
#[must_use]
pub fn split_sentences(text: &str, lang: &str) -> Vec<Sentence> {
    let rules = Rules::get(lang);
    let mut out = Vec::new();
    let mut paragraph = 0;
    for (start, end) in paragraphs(text) {
        let before = out.len();
        split_paragraph(text, start, end, rules, paragraph, &mut out);
        if out.len() > before {
            paragraph += 1;
        }
    }
    out
}

/// Byte ranges of the blank-line separated paragraphs.
fn paragraphs(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let line_start = pos;
        pos += line.len();
        if line.trim().is_empty() {
            out.extend(current.take());
        } else {
            current = Some((current.map_or(line_start, |c| c.0), pos));
        }
    }
    out.extend(current);
    out
}

fn split_paragraph(
    text: &str,
    start: usize,
    end: usize,
    rules: &Rules,
    paragraph: usize,
    out: &mut Vec<Sentence>,
) {
    let para = &text[start..end];
    let mut cuts = Vec::new();
    let mut line_start = 0;
    let mut i = 0;
    while let Some(c) = para[i..].chars().next() {
        if c == '\n' {
            if line_break_ends_sentence(&para[line_start..i], &para[i + 1..]) {
                cuts.push(i);
            }
            i += 1;
            line_start = i;
        } else if is_terminator(c) {
            let (run_end, end) = terminator_extent(para, i, rules);
            let sentence_start = cuts
                .last()
                .map_or(line_start, |&cut: &usize| cut.max(line_start));
            if ends_sentence(para, sentence_start, i, run_end, end, rules) {
                cuts.push(end);
            }
            i = end;
        } else {
            i += c.len_utf8();
        }
    }
    cuts.push(para.len());

    let mut from = 0;
    for cut in cuts {
        let piece = &para[from..cut];
        let trimmed = piece.trim_start_matches(is_trimmable);
        let lead = piece.len() - trimmed.len();
        let trimmed = trimmed.trim_end_matches(is_trimmable);
        // Drop stray separators ("*", "—", "•••") and one-character leftovers.
        let mut chars = trimmed.chars();
        if trimmed.chars().any(char::is_alphanumeric)
            && chars.next().is_some()
            && chars.next().is_some()
        {
            let s = start + from + lead;
            out.push(Sentence {
                text: trimmed.to_owned(),
                start: s,
                end: s + trimmed.len(),
                paragraph,
            });
        }
        from = cut;
    }
}

/// A single newline inside a paragraph: does the line before it end a sentence
/// even though it has no final punctuation?
fn line_break_ends_sentence(line: &str, rest: &str) -> bool {
    let line = line.trim_end();
    let Some(last) = line.chars().next_back() else {
        return false;
    };
    // Lines ending in punctuation were judged by the terminator rules.
    if is_terminator(
        line.trim_end_matches(is_closer)
            .chars()
            .next_back()
            .unwrap_or(last),
    ) {
        return false;
    }
    if matches!(
        last,
        ',' | ';' | ':' | '-' | '\u{2010}' | '–' | '—' | '(' | '/' | '&' | '+'
    ) {
        return false;
    }
    let next = rest.trim_start();
    if starts_with_list_marker(next) {
        return true;
    }
    if next.chars().next().is_some_and(char::is_lowercase) {
        return false;
    }
    // Long lines without punctuation are hard-wrapped prose, short ones are headings,
    // list items, bylines or address lines.
    line.chars().count() < 60
}

fn starts_with_list_marker(line: &str) -> bool {
    let mut chars = line.chars();
    match chars.next() {
        Some('-' | '*' | '•' | '–' | '—' | '·' | '▪' | '►') => {
            chars.next().is_some_and(char::is_whitespace)
        }
        Some(c) if c.is_ascii_digit() => {
            let rest = line.trim_start_matches(|c: char| c.is_ascii_digit());
            (rest.starts_with(". ") || rest.starts_with(") ")) && line.len() - rest.len() <= 3
        }
        _ => false,
    }
}

/// From a terminator at `i`: end of the terminator run, and end of the closing
/// quotes/brackets that still belong to the sentence.
fn terminator_extent(para: &str, i: usize, rules: &Rules) -> (usize, usize) {
    let after_run = para[i..].trim_start_matches(is_terminator);
    let run_end = para.len() - after_run.len();
    let mut rest = after_run.trim_start_matches(is_closer);
    if rules.spaced_guillemets {
        // French typography: « Phrase. » with a (no-break) space before the closing mark.
        let spaced = rest.trim_start_matches([' ', '\u{A0}', '\u{202F}']);
        if rest.len() - spaced.len() <= 3 && spaced.starts_with('»') {
            rest = spaced.trim_start_matches(is_closer);
        }
    }
    (run_end, para.len() - rest.len())
}

/// Decide whether the terminator run `para[run_start..run_end]` (closers up to `end`)
/// ends a sentence that started at `sentence_start`.
fn ends_sentence(
    para: &str,
    sentence_start: usize,
    run_start: usize,
    run_end: usize,
    end: usize,
    rules: &Rules,
) -> bool {
    let run = &para[run_start..run_end];
    let after = &para[end..];
    let Some(next) = after.chars().next() else {
        return true;
    };
    let strong = run.contains(|c| c != '.');
    if run.contains(is_cjk_terminator) {
        return true;
    }
    if !next.is_whitespace() {
        // "3.5", "U.S", "example.com", "?!" glued to the next word: no break, except
        // before CJK text, which does not use spaces.
        return strong && is_cjk(next);
    }
    let (word, word_end) = next_word(after);
    let Some(first) = word.chars().next() else {
        return true;
    };
    if first.is_lowercase() {
        return false;
    }
    // "?", "!", "…", "..." are not used in abbreviations.
    if strong || run.len() > 1 {
        return true;
    }
    let next = NextWord {
        word,
        is_initial: word.chars().nth(1).is_none() && word_end.starts_with('.'),
        dash: {
            let t = after.trim_start();
            t.starts_with(['–', '—']) || t.starts_with("- ")
        },
    };

    let Some((tok_start, raw)) = prev_token(para, run_start) else {
        return true;
    };
    let tok = raw.trim_start_matches(|c: char| !c.is_alphanumeric());
    if tok.is_empty() {
        return true;
    }
    let lower = tok.to_lowercase();
    let before_tok = para[..tok_start].trim_end_matches(|c: char| c.is_whitespace() && c != '\n');
    let first_in_sentence = before_tok.len() <= sentence_start;
    let prev = prev_token(para, before_tok.len())
        .map(|(_, t)| t.trim_start_matches(|c: char| !c.is_alphanumeric()));

    // Abbreviations written with a space: "z. B.", "p. ex.", "т. е.".
    if let Some(p) = prev.filter(|p| p.ends_with('.') && p.len() <= 6 && tok.chars().count() <= 3) {
        let compound = format!("{}{}", p.to_lowercase(), lower);
        if let Some(decision) = rules.abbrev(&compound, &next) {
            return decision;
        }
    }
    if let Some(decision) = rules.abbrev(&lower, &next) {
        return decision;
    }
    if is_number(tok) {
        let small = tok.len() <= 3 && tok.bytes().all(|b| b.is_ascii_digit());
        // "1. Item" enumerators; German "am 15. Dezember", "im 19. Jahrhundert".
        if small && first_in_sentence {
            return false;
        }
        if small && rules.has_ordinals {
            let lower_prev = prev.map(str::to_lowercase).unwrap_or_default();
            let lower_next = next.word.to_lowercase();
            return !(rules.ordinal_next.contains(lower_next.as_str())
                || rules.ordinal_prev.contains(lower_prev.as_str()));
        }
        return true;
    }
    let single_letter = tok.chars().nth(1).is_none();
    if single_letter && first_in_sentence {
        return false; // "a. item"
    }
    // Initials ("J. F. Kennedy", "John F. Dulles") and dotted acronyms ("B.B. King",
    // "U.S."): a break only before a word that typically starts a sentence.
    if single_letter || is_dotted_acronym(tok) {
        return rules.is_starter(&next);
    }
    true
}

struct NextWord<'a> {
    word: &'a str,
    /// A single letter followed by '.', i.e. an initial, never a sentence starter.
    is_initial: bool,
    /// Introduced by a dash, as quoted speech is in Polish or Russian.
    dash: bool,
}

/// First alphanumeric run after a terminator (skipping spaces, quotes, dashes), and the
/// text following it. Bounded so a huge run of punctuation cannot make this quadratic.
fn next_word(after: &str) -> (&str, &str) {
    let Some((start, _)) = after
        .char_indices()
        .take(16)
        .find(|(_, c)| c.is_alphanumeric())
    else {
        return ("", "");
    };
    let rest = &after[start..];
    let len = rest
        .char_indices()
        .take_while(|(_, c)| c.is_alphanumeric())
        .take(32)
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    (&rest[..len], &rest[len..])
}

/// The whitespace-delimited token ending at byte `end`, with its start offset; `None`
/// if it is empty or too long to be an abbreviation (bounds the backward scan).
fn prev_token(para: &str, end: usize) -> Option<(usize, &str)> {
    let head = &para[..end];
    let mut start = end;
    for (n, (i, c)) in head.char_indices().rev().enumerate() {
        if c.is_whitespace() {
            break;
        }
        if n >= 40 {
            return None;
        }
        start = i;
    }
    (start < end).then(|| (start, &para[start..end]))
}

fn is_number(tok: &str) -> bool {
    tok.starts_with(|c: char| c.is_ascii_digit())
        && tok
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ':' | '/' | '-' | '–'))
}

/// "U.S", "B.B", "EE.UU", "Ph.D": letters in short dot-separated groups.
fn is_dotted_acronym(tok: &str) -> bool {
    tok.contains('.')
        && tok
            .split('.')
            .all(|g| (1..=3).contains(&g.chars().count()) && g.chars().all(char::is_alphabetic))
}

/// Sentence-final punctuation of Latin, Cyrillic, Arabic, Indic, Armenian, Ethiopic,
/// Burmese and CJK scripts.
const TERMINATORS: &str = ".?!…‼⁇⁈⁉؟۔।॥։።။。！？｡";
/// Terminators that need no space after them.
const CJK_TERMINATORS: &str = "。！？｡";
/// Closing quotes and brackets that stay with the sentence they follow. Right after the
/// terminator any quote mark is closing (German „…“ closes with “, »…« with «).
const CLOSERS: &str = "\"'”“’‘»«›‹)]}）」』】〕》〉］";

fn is_terminator(c: char) -> bool {
    // Called for every character: settle ASCII without searching the list.
    if c.is_ascii() {
        matches!(c, '.' | '?' | '!')
    } else {
        TERMINATORS.contains(c)
    }
}

fn is_cjk_terminator(c: char) -> bool {
    CJK_TERMINATORS.contains(c)
}

fn is_closer(c: char) -> bool {
    CLOSERS.contains(c)
}

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'     // kana
        | '\u{3400}'..='\u{4DBF}'   // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'   // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}'   // compatibility ideographs
        | '\u{FF00}'..='\u{FFEF}'   // full-width forms
        | '\u{AC00}'..='\u{D7AF}'   // hangul
    )
}

fn is_trimmable(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

#[derive(Clone, Copy)]
enum Abbr {
    /// Never ends a sentence: "Dr.", "e.g.", "z.B.", "np.", "т.е.".
    Prefix,
    /// Not an end before a number ("No. 5", "Art. 3"), otherwise an ordinary word.
    BeforeNumber,
    /// Often sentence-final ("etc.", "U.S.", "Inc.", pl "r.", ru "г."): an end only if the
    /// next word is a typical sentence starter ("w 1951 r. Stany" is one sentence).
    Ambiguous,
}

struct Rules {
    abbrevs: HashMap<&'static str, Abbr>,
    starters: HashSet<&'static str>,
    has_ordinals: bool,
    ordinal_next: HashSet<&'static str>,
    ordinal_prev: HashSet<&'static str>,
    spaced_guillemets: bool,
}

impl Rules {
    fn get(lang: &str) -> &'static Rules {
        static RULES: OnceLock<HashMap<&'static str, Rules>> = OnceLock::new();
        let all = RULES.get_or_init(|| {
            let mut m: HashMap<_, _> = LANGS
                .iter()
                .map(|l| {
                    (
                        l.code,
                        Rules::build(l, l.starters.split_whitespace().collect()),
                    )
                })
                .collect();
            // Language unknown: core abbreviations, but any language's sentence starters.
            let starters = LANGS
                .iter()
                .flat_map(|l| l.starters.split_whitespace())
                .collect();
            m.insert(
                "und",
                Rules::build(
                    &LangData {
                        code: "und",
                        ..LangData::EMPTY
                    },
                    starters,
                ),
            );
            m
        });
        let code = crate::stages::language::base_code(lang);
        all.get(code.as_str())
            .or_else(|| all.get("und"))
            .expect("generic rules are always present")
    }

    fn build(l: &LangData, starters: HashSet<&'static str>) -> Rules {
        let mut abbrevs = HashMap::new();
        for (list, kind) in [
            (CORE.prefix, Abbr::Prefix),
            (CORE.before_number, Abbr::BeforeNumber),
            (CORE.ambiguous, Abbr::Ambiguous),
            (l.prefix, Abbr::Prefix),
            (l.before_number, Abbr::BeforeNumber),
            (l.ambiguous, Abbr::Ambiguous),
        ] {
            abbrevs.extend(list.split_whitespace().map(|w| (w, kind)));
        }
        let set = |s: &'static str| s.split_whitespace().collect::<HashSet<_>>();
        Rules {
            abbrevs,
            starters,
            has_ordinals: l.has_ordinals,
            ordinal_next: set(l.ordinal_next),
            ordinal_prev: set(l.ordinal_prev),
            spaced_guillemets: l.code == "fr",
        }
    }

    fn abbrev(&self, lower: &str, next: &NextWord) -> Option<bool> {
        match self.abbrevs.get(lower)? {
            Abbr::Prefix => Some(false),
            Abbr::BeforeNumber => next
                .word
                .starts_with(|c: char| c.is_ascii_digit())
                .then_some(false),
            Abbr::Ambiguous => Some(self.is_starter(next)),
        }
    }

    fn is_starter(&self, next: &NextWord) -> bool {
        next.dash || !next.is_initial && self.starters.contains(next.word.to_lowercase().as_str())
    }
}

/// Word lists, space separated, lower case, without the final '.'.
struct LangData {
    code: &'static str,
    prefix: &'static str,
    before_number: &'static str,
    ambiguous: &'static str,
    /// Words that often start a sentence: used only after an ambiguous abbreviation.
    starters: &'static str,
    /// German-style ordinals ("15. Dezember"): a small number + '.' is not an end
    /// before these words or after these determiners.
    has_ordinals: bool,
    ordinal_next: &'static str,
    ordinal_prev: &'static str,
}

impl LangData {
    const EMPTY: LangData = LangData {
        code: "",
        prefix: "",
        before_number: "",
        ambiguous: "",
        starters: "",
        has_ordinals: false,
        ordinal_next: "",
        ordinal_prev: "",
    };
}

/// Shared by every language, and all the generic ("und") rules know.
const CORE: LangData = LangData {
    prefix: "dr prof mr mrs ms vs cf e.g i.e ca approx",
    before_number: "no nr nos vol fig pp p art",
    ambiguous: "etc st jr inc ltd co corp u.s u.k ph.d a.m p.m",
    ..LangData::EMPTY
};

const LANGS: &[LangData] = &[
    LangData {
        code: "en",
        prefix: "mx gen sen rep gov lt col capt maj sgt cpl adm cmdr rev hon messrs mt ft viz",
        before_number: "figs ch sec vols",
        ambiguous: "sr bros dept univ ave blvd rd al u.n jan feb mar apr jun jul aug sep sept oct nov dec est",
        starters: "a an the this that these those there here he she it they we i you his her its their our my your \
                   but and or so yet for nor if when while after before as at in on by from with without to of \
                   however meanwhile moreover also still now then today yesterday some many most one both each all \
                   another other no not what who why how where which only even although though since because \
                   instead thus hence therefore later earlier under over during among despite",
        ..LangData::EMPTY
    },
    LangData {
        code: "pl",
        prefix: "np m.in tzw ok godz ul al pl ws św ks gen płk mjr kpt hab inż tj tzn zob por ds im os pt red wyd tel \
                 woj pow ur zm śp abp bp dyr prez ppłk doc mec",
        before_number: "s str poz pkt",
        ambiguous: "r w tys mln mld itd itp in pn br ub ub.r p.n.e n.e proc gr min wg jw cdn",
        starters: "a ale albo aby bo był była było byli były co czy dla do dlatego dziś dzisiaj gdy gdyby gdzie i \
                   ich jak jednak jego jej jest jeszcze jeśli już kiedy kto który która które lecz mimo może na nad \
                   nie o od on ona one oni oraz po pod podczas poza później przed przez przy również są ta tak także \
                   tam te teraz też to tu ten tym w we według wiele wszystko wtedy z za ze zaś że natomiast ponadto \
                   następnie obecnie potem wówczas właśnie choć chociaż dzięki u wśród my wy ja",
        ..LangData::EMPTY
    },
    LangData {
        code: "de",
        prefix: "bzw z.b d.h u.a v.a z.t u.u ggf evtl inkl vgl bspw sog geb hr fr dipl ing mag tel mind zzgl gem \
                 lt ehem allg dt engl frz abs nr",
        before_number: "s bd abb kap",
        ambiguous: "usw o.ä u.ä mio mrd tsd jh jhd str max min std e.v",
        starters: "der die das den dem des ein eine einer einem einen er sie es wir ich ihr man aber und oder doch \
                   denn auch so dann da dort hier dies diese dieser dieses damit dabei dazu deshalb daher trotzdem \
                   jedoch allerdings außerdem zudem nun noch schon nur in im am an auf aus bei mit nach vor seit von \
                   zu zum zur für über unter als wenn wie was wer wo warum weil ob obwohl während nicht kein keine \
                   sein seine ihre unser alle viele einige mehr zwar heute gestern damals später zunächst bereits",
        has_ordinals: true,
        ordinal_next: "januar jänner februar märz april mai juni juli august september oktober november dezember \
                       jahrhundert jahrtausend jahrestag geburtstag todestag mal platz rang liga bundesliga runde \
                       spieltag weltkrieg quartal halbjahr klasse stock etage stelle lesung auflage",
        ordinal_prev: "der die das den dem des am im zum zur vom beim ins jeder jede jedes jeden jedem dieser diese \
                       dieses diesem diesen sein seine seinem seinen seiner ihr ihre ihrem ihren ihrer unser unsere",
    },
    LangData {
        code: "fr",
        prefix: "m mm me mgr pr ste p.ex c.-à-d bd env resp mlle mme",
        before_number: "n chap",
        ambiguous: "av apr j.-c éd cie sté hab janv févr avr juil oct nov déc",
        starters: "le la les l un une des de du d il elle ils elles on nous vous je j ce c cet cette ces mais et ou \
                   donc or ni car dans en pour par sur sous avec sans selon depuis si quand lorsque alors puis ainsi \
                   pourtant cependant toutefois enfin son sa ses leur leurs au aux qui que qu quel quelle tout tous \
                   toutes plus aujourd hier ensuite après avant parmi entre ne n s y à",
        ..LangData::EMPTY
    },
    LangData {
        code: "es",
        prefix: "sr sra srta sres dra ud uds d dña lic ing gral arq sto sta av aprox p.ej ej dpto",
        before_number: "pág núm tel",
        ambiguous: "ee.uu cía s.a a.c d.c admón mill mín máx",
        starters: "el la los las lo un una unos unas él ella ellos ellas este esta estos estas esto ese esa eso pero \
                   y e o en por para con sin según desde si cuando como que qué quien quién su sus al del además \
                   también entonces hoy ayer así aunque no se le les ya hay mientras durante tras ante sobre entre \
                   otro otra todos todo cada muchos algunos",
        ..LangData::EMPTY
    },
    LangData {
        code: "ru",
        prefix: "т.е т.к т.н т.ч им ул д пер пл просп проф акад ген см напр гл ст ок гос зам тов англ лат рус",
        before_number: "с стр рис",
        ambiguous: "г гг в вв т.д т.п др пр обл тыс млн млрд руб коп долл чел н.э",
        starters: "в во на но и а он она оно они мы я ты вы это этот эта эти так также тогда теперь сейчас однако \
                   при по с со к о об из за для как что когда если после до его её ее их там здесь не ни кроме \
                   ранее уже все всё еще ещё у от между через чтобы хотя поэтому затем потом",
        ..LangData::EMPTY
    },
];

#[cfg(test)]
mod tests;
