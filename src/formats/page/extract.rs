//! Main text and metadata of a whole web page (news/article pages of a site mirror).
//!
//! Pipeline: bytes -> charset decoding (BOM, `<meta charset>`, `<meta http-equiv>`, else
//! UTF-8) -> DOM (html5ever via `dom_query`) -> metadata from the untouched DOM (meta tags,
//! JSON-LD, `<time>`, `<link rel=canonical>`) -> main content by `dom_smoothie` (a port of
//! Mozilla's Readability.js) -> boilerplate left inside the chosen content removed (captions,
//! share/related/newsletter/byline blocks by class or id, lists of links, "Advertisement" /
//! "Read more" / dateline paragraphs) -> plain text, paragraphs separated by blank lines.
//!
//! Measured with the Article Extraction Benchmark metric (4-gram shingle F1) on 133 pages of
//! that benchmark and of Readability.js's test pages: F1 0.957 for dom_smoothie's own text,
//! 0.972 with this module (`python3 benches/eval_html.py`; benches/QUALITY.md has the candidates
//! compared).
//!
//! Over 800 lines on purpose: charset sniffing, metadata (meta tags, JSON-LD, `<time>`), the
//! boilerplate rules and the article/listing judgement are one extractor nothing else uses.

use dom_query::{Document, NodeRef};

/// What [`extract`] finds in a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Headline: og:title / twitter:title / dc.title, else the JSON-LD headline when
    /// `<title>` contains it, else `<title>`, the JSON-LD headline, the first `<h1>`; with an
    /// obvious " | Site" / " - Site" suffix (or "Site | " prefix) removed.
    pub title: Option<String>,
    /// Main text; paragraphs separated by a blank line, `<br>` lines by a newline.
    pub text: String,
    /// Byline: JSON-LD author(s), meta author / article:author, rel=author, itemprop=author.
    pub author: Option<String>,
    /// Publication date as the page states it (mostly ISO 8601): article:published_time,
    /// JSON-LD datePublished, other date metas, `<time datetime>`.
    pub date: Option<String>,
    /// ISO 639-1 code ("en") from `<html lang>`, Content-Language, og:locale, JSON-LD.
    pub lang: Option<String>,
    /// `<link rel=canonical>` or og:url, made absolute against `url` when relative.
    pub canonical: Option<String>,
    /// Whether the page holds an article, as opposed to an index/listing/navigation page:
    /// see [`judge_article`].
    pub is_article: bool,
}

// ---------------------------------------------------------------------------------------------
// Charset

/// The encoding page bytes are decoded with (see [`decode`]): a BOM's, else the one a `<meta>`
/// declares, else UTF-8.
pub(crate) fn encoding_of(bytes: &[u8]) -> &'static encoding_rs::Encoding {
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc;
    }
    sniff_meta_charset(&bytes[..bytes.len().min(16 * 1024)]).unwrap_or(encoding_rs::UTF_8)
}

/// Decode page bytes: BOM, then `<meta charset>` / `<meta http-equiv=Content-Type>` in the
/// first 16 KiB (browsers look at 1 KiB; some heads carry kilobytes of inline script before
/// it), else UTF-8 (lossy; windows-1252 when the bytes hold no UTF-8 sequence at all).
pub fn decode(bytes: &[u8]) -> String {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc
            .decode_without_bom_handling(&bytes[bom_len..])
            .0
            .into_owned();
    }
    if let Some(enc) = sniff_meta_charset(&bytes[..bytes.len().min(16 * 1024)]) {
        if enc != encoding_rs::UTF_8 {
            return enc.decode_without_bom_handling(bytes).0.into_owned();
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            let any_multibyte_utf8 = has_utf8_multibyte(bytes);
            if any_multibyte_utf8 {
                String::from_utf8_lossy(bytes).into_owned()
            } else {
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(bytes)
                    .0
                    .into_owned()
            }
        }
    }
}

fn has_utf8_multibyte(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let n = match c {
            0xC2..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF4 => 3,
            _ => 0,
        };
        if n > 0 && i + n < b.len() && b[i + 1..=i + n].iter().all(|&x| (0x80..0xC0).contains(&x)) {
            return true;
        }
        i += 1;
    }
    false
}

/// The charset named by the first `<meta>` that declares one (HTML's prescan, simplified).
pub(crate) fn sniff_meta_charset(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut pos = 0;
    while let Some(off) = find(&lower[pos..], b"<meta") {
        let start = pos + off;
        let end = lower[start..]
            .iter()
            .position(|&c| c == b'>')
            .map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(ci) = find(tag, b"charset") {
            let mut rest = &tag[ci + 7..];
            while let Some((&c, r)) = rest.split_first() {
                if c == b' ' || c == b'=' || c == b'"' || c == b'\'' {
                    rest = r;
                } else {
                    break;
                }
            }
            let label_len = rest
                .iter()
                .position(|&c| {
                    !(c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b':' || c == b'.')
                })
                .unwrap_or(rest.len());
            if let Some(enc) = encoding_rs::Encoding::for_label(&rest[..label_len]) {
                // As the HTML standard says: a meta-declared UTF-16 means UTF-8, x-user-defined windows-1252.
                if enc == encoding_rs::UTF_16BE || enc == encoding_rs::UTF_16LE {
                    return Some(encoding_rs::UTF_8);
                }
                if enc == encoding_rs::X_USER_DEFINED {
                    return Some(encoding_rs::WINDOWS_1252);
                }
                return Some(enc);
            }
        }
        pos = end.max(start + 5);
        if pos >= lower.len() {
            break;
        }
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// HTML to text

const SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "iframe", "svg", "math", "object", "video", "audio",
    "canvas", "head", "title", "button", "select", "textarea", "input", "form", "nav",
];
#[rustfmt::skip]
const BLOCK: &[&str] = &[
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "listing", "main",
    "menu", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr",
    "ul", "xmp", "td", "th",
];

#[derive(Default)]
struct TextOut {
    paras: Vec<String>,
    cur: String,
    pending_space: bool,
}

impl TextOut {
    fn push(&mut self, s: &str, pre: bool) {
        for c in s.chars() {
            if is_invisible(c) {
                continue;
            }
            if pre && c == '\n' {
                self.line_break();
                continue;
            }
            if c.is_whitespace() && !(pre && c != '\n') {
                self.pending_space = true;
            } else if c.is_whitespace() {
                self.cur.push(' ');
            } else {
                if self.pending_space && !self.cur.is_empty() && !self.cur.ends_with('\n') {
                    self.cur.push(' ');
                }
                self.pending_space = false;
                self.cur.push(c);
            }
        }
    }
    fn line_break(&mut self) {
        let t = self.cur.trim_end_matches(' ').len();
        self.cur.truncate(t);
        if !self.cur.is_empty() && !self.cur.ends_with('\n') {
            self.cur.push('\n');
        }
        self.pending_space = false;
    }
    fn para_break(&mut self) {
        let p = self.cur.trim();
        if !p.is_empty() {
            self.paras.push(p.to_string());
        }
        self.cur.clear();
        self.pending_space = false;
    }
    fn finish(mut self) -> String {
        self.para_break();
        self.paras.join("\n\n")
    }
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}'
    )
}

/// Depth-first walk with an explicit stack (no recursion: pages can nest thousands deep).
fn walk(node: &NodeRef, out: &mut TextOut) {
    enum Step<'a> {
        Enter(NodeRef<'a>, bool),
        LeaveBlock,
    }
    let mut stack: Vec<Step> = node
        .children_it(true)
        .map(|c| Step::Enter(c, false))
        .collect();
    while let Some(step) = stack.pop() {
        let (child, pre) = match step {
            Step::LeaveBlock => {
                out.para_break();
                continue;
            }
            Step::Enter(c, pre) => (c, pre),
        };
        if child.is_text() {
            out.push(&child.text(), pre);
        } else if child.is_element() {
            let name = child
                .node_name()
                .map(|n| n.to_ascii_lowercase())
                .unwrap_or_default();
            if SKIP.contains(&name.as_str()) || is_hidden(&child) {
                continue;
            }
            if name == "br" {
                out.line_break();
                continue;
            }
            let block = BLOCK.contains(&name.as_str());
            if block {
                out.para_break();
                stack.push(Step::LeaveBlock);
            }
            let pre = pre || name == "pre";
            stack.extend(child.children_it(true).map(|c| Step::Enter(c, pre)));
        } else if child.is_document() || child.is_fragment() {
            stack.extend(child.children_it(true).map(|c| Step::Enter(c, pre)));
        }
    }
}

/// Unwrap elements nested deeper than `limit` (their children move up), so that no later
/// step (the extractor recurses over the tree) meets a pathological depth. Real pages stay
/// far below the limit.
fn flatten_deep(doc: &Document, limit: usize) {
    let mut deep = Vec::new();
    let mut stack = vec![(doc.root(), 0usize)];
    while let Some((n, d)) = stack.pop() {
        if d > limit && n.is_element() {
            deep.push(n);
        }
        stack.extend(n.children_it(false).map(|c| (c, d + 1)));
    }
    for n in deep.iter().rev() {
        n.unwrap_node();
    }
}

fn is_hidden(n: &NodeRef) -> bool {
    if n.has_attr("hidden") {
        return true;
    }
    if let Some(style) = n.attr("style") {
        let s: String = style
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if s.contains("display:none") || s.contains("visibility:hidden") {
            return true;
        }
    }
    false
}

/// Text of a node: block elements become paragraphs (separated by a blank line), `<br>` a
/// line break, whitespace collapsed, scripts/forms/navigation skipped.
pub fn node_text(node: &NodeRef) -> String {
    let mut out = TextOut::default();
    walk(node, &mut out);
    out.finish()
}

/// [`node_text`] of an HTML document or fragment.
#[cfg(test)]
pub fn html_to_text(html: &str) -> String {
    let doc = Document::from(html);
    let root = doc.root();
    node_text(&root)
}

// ---------------------------------------------------------------------------------------------
// Main entry

/// Elements nested deeper are unwrapped before extraction (the deepest of the 133 test pages
/// is 52 levels; dom_smoothie overflows a 2 MiB thread stack at some 10,000-30,000 levels).
const MAX_DEPTH: usize = 400;

/// Extract the main text and metadata of a page. `url` is where the page came from (used to
/// resolve a relative canonical link and by the extractor for links); it may be `None`.
///
/// # Errors
///
/// Only when the extractor cannot be set up; a page without recognisable content gives
/// `Ok` with an empty `text` and `is_article == false`.
pub fn extract(bytes: &[u8], url: Option<&str>) -> Result<Page, String> {
    let html = decode(bytes);
    let doc = Document::from(html.as_str());
    let meta = metadata(&doc, url);
    flatten_deep(&doc, MAX_DEPTH);
    let doc_url = url.filter(|u| {
        url::Url::parse(u).is_ok_and(|p| p.scheme() == "http" || p.scheme() == "https")
    });
    // Classes are kept in the article HTML so that the clean-up below can see them.
    let cfg = dom_smoothie::Config {
        keep_classes: true,
        ..Default::default()
    };
    let mut reader = dom_smoothie::Readability::with_document(doc, doc_url, Some(cfg))
        .map_err(|e| e.to_string())?;
    let (text, stats, byline) = match reader.parse() {
        Ok(article) => {
            let (text, stats) = content_text(&article.content);
            (text, stats, article.byline)
        }
        Err(_) => (
            String::new(),
            ContentStats {
                link_density: 1.0,
                linked_headings: 0,
            },
            None,
        ),
    };
    let author = meta
        .author
        .or_else(|| byline.and_then(|b| clean_author(&b)));
    let is_article =
        !url.is_some_and(is_index_url) && judge_article(&text, &stats, meta.article_markup);
    Ok(Page {
        title: meta.title,
        text,
        author,
        date: meta.date,
        lang: meta.lang,
        canonical: meta.canonical,
        is_article,
    })
}

/// Figures of the extracted content used by [`judge_article`].
#[derive(Debug, Clone, Copy)]
pub struct ContentStats {
    /// Share of the text's characters that are inside links.
    pub link_density: f64,
    /// Headings (h1-h6) whose text is mostly a link to another page: teaser headlines.
    pub linked_headings: usize,
}

/// Article HTML (from the extractor) to clean text, and its [`ContentStats`].
fn content_text(content_html: &str) -> (String, ContentStats) {
    let d = Document::from(content_html);
    let root = d.root();
    let elements: Vec<NodeRef> = root.descendants_it().filter(|n| n.is_element()).collect();
    for n in &elements {
        if has_name(n, "figcaption") {
            n.remove_from_parent();
        }
    }
    remove_boilerplate_blocks(&root);
    remove_link_lists(&root);
    let link_density = link_chars(&root) as f64 / text_len(&root).max(1) as f64;
    let linked_headings = root
        .descendants_it()
        .filter(|n| {
            n.is_element()
                && ["h1", "h2", "h3", "h4", "h5", "h6"]
                    .iter()
                    .any(|h| has_name(n, h))
        })
        .filter(|h| {
            let t = text_len(h);
            let linked: usize = h
                .descendants_it()
                .filter(|a| {
                    a.is_element()
                        && has_name(a, "a")
                        && a.attr("href").is_some_and(|r| !r.starts_with('#'))
                })
                .map(|a| text_len(&a))
                .sum();
            t > 0 && linked * 10 >= t * 8
        })
        .count();
    let text = node_text(&root);
    let paras: Vec<&str> = text.split("\n\n").collect();
    let kept: Vec<&str> = paras
        .iter()
        .enumerate()
        .filter(|&(i, p)| !(boilerplate_paragraph(p) || (i < 4 && is_header_dateline(p))))
        .map(|(_, p)| *p)
        .collect();
    (
        kept.join("\n\n"),
        ContentStats {
            link_density,
            linked_headings,
        },
    )
}

fn has_name(n: &NodeRef, name: &str) -> bool {
    n.node_name().is_some_and(|x| x.eq_ignore_ascii_case(name))
}

fn text_len(n: &NodeRef) -> usize {
    n.text().chars().filter(|c| !c.is_whitespace()).count()
}

fn link_chars(n: &NodeRef) -> usize {
    n.descendants_it()
        .filter(|a| a.is_element() && has_name(a, "a"))
        .map(|a| text_len(&a))
        .sum()
}

// ---------------------------------------------------------------------------------------------
// Boilerplate inside the extracted content

/// Parts of class/id tokens (split on '-' and '_') that mark blocks which are not article text.
#[rustfmt::skip]
const BOILER_PARTS: &[&str] = &[
    "share", "sharing", "social", "related", "recommended", "recommendations", "promo",
    "newsletter", "subscribe", "subscription", "signup", "teaser", "trending", "popular",
    "advert", "advertisement", "ad", "ads", "sponsor", "sponsored", "outbrain", "taboola",
    "byline", "author", "dateline", "timestamp", "published", "tags", "breadcrumb",
    "breadcrumbs", "comment", "comments", "rail", "widget", "sidebar", "footer", "toolbar",
    "copyright", "disclaimer", "caption", "credit", "credits",
];
/// Substrings of class/id tokens with the same meaning ("newsCaption", "mostRead", ...).
#[rustfmt::skip]
const BOILER_SUBSTRINGS: &[&str] = &[
    "mostread", "most-read", "most_read", "readmore", "read-more", "morestories", "more-stories",
    "byline", "sharing", "social", "newsletter", "related", "advert", "sponsor", "breadcrumb",
    "outbrain", "taboola", "caption",
];

/// Class and id tokens of an element, lower-cased; tokens of more than 4 parts are slugs
/// (section ids made from headings, e.g. "sharing-with-a-single-developer"), not roles.
fn role_tokens(n: &NodeRef) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["class", "id"] {
        if let Some(v) = n.attr(attr) {
            for token in v.to_ascii_lowercase().split_whitespace() {
                if token.split(['-', '_']).filter(|p| !p.is_empty()).count() <= 4 {
                    out.push(token.to_string());
                }
            }
        }
    }
    out
}

fn is_boilerplate_block(n: &NodeRef) -> bool {
    role_tokens(n).iter().any(|t| {
        BOILER_SUBSTRINGS.iter().any(|s| t.contains(s))
            || t.split(['-', '_']).any(|p| BOILER_PARTS.contains(&p))
    })
}

/// Remove blocks marked as boilerplate by class or id, unless one holds 30% or more of the
/// content's text (then it is the article's own container, whatever its class says).
fn remove_boilerplate_blocks(root: &NodeRef) {
    let total = text_len(root).max(1);
    let elements: Vec<NodeRef> = root.descendants_it().filter(|n| n.is_element()).collect();
    for n in elements {
        if ["html", "body", "main", "article"]
            .iter()
            .any(|t| has_name(&n, t))
        {
            continue;
        }
        if is_boilerplate_block(&n) && text_len(&n) * 10 < total * 3 {
            n.remove_from_parent();
        }
    }
}

/// Remove lists of links (related stories, tables of contents): `ul`/`ol` of at least two
/// items, none over 25 words, with at least 80% of their text inside links.
fn remove_link_lists(root: &NodeRef) {
    let lists: Vec<NodeRef> = root
        .descendants_it()
        .filter(|n| n.is_element() && (has_name(n, "ul") || has_name(n, "ol")))
        .collect();
    for n in lists {
        let items: Vec<NodeRef> = n
            .element_children()
            .into_iter()
            .filter(|c| has_name(c, "li"))
            .collect();
        if items.len() < 2
            || items
                .iter()
                .any(|li| li.text().split_whitespace().count() > 25)
        {
            continue;
        }
        let t = text_len(&n);
        if t > 0 && link_chars(&n) * 10 >= t * 8 {
            n.remove_from_parent();
        }
    }
}

#[rustfmt::skip]
const BOILER_PREFIXES: &[&str] = &[
    "advertisement", "continue reading", "read more", "see more", "see also", "don't miss",
    "don’t miss", "related:", "related articles", "related stories", "share this", "share on",
    "click here", "sign up", "subscribe", "follow us", "published", "updated", "last updated",
    "posted on", "image:", "photo:", "credit:", "image copyright", "tags:", "getty images",
    "(image:",
];
/// Headings that introduce a block of links to other stories.
#[rustfmt::skip]
const RELATED_HEADS: &[&str] = &[
    "don't miss", "don’t miss", "read more", "see more", "see also:", "related", "more from",
    "most read", "you may also like", "recommended", "more on this", "trending",
];

/// A paragraph that is page furniture: short (at most 12 words) and starting like
/// "Advertisement", "Read more", "Published ...", "Image: ...", or a short "By X" byline; or a
/// block of lines whose first line is a "Related"/"Don't miss" heading.
fn boilerplate_paragraph(p: &str) -> bool {
    let l = p.trim().to_lowercase();
    if p.contains('\n') {
        let first = l.lines().next().unwrap_or("");
        if first.split_whitespace().count() <= 5
            && RELATED_HEADS.iter().any(|x| first.starts_with(x))
        {
            return true;
        }
    }
    let words = p.split_whitespace().count();
    if words == 0 || words > 12 {
        return false;
    }
    if BOILER_PREFIXES.iter().any(|x| l.starts_with(x)) {
        return true;
    }
    words <= 6
        && ["by ", "por ", "von ", "par "]
            .iter()
            .any(|x| l.starts_with(x))
}

#[rustfmt::skip]
const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    "janv", "févr", "mars", "avr", "mai", "juin", "juil", "août", "sept", "déc",
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
    "octubre", "noviembre", "diciembre", "janeiro", "fevereiro", "março", "maio", "junho",
    "julho", "setembro", "outubro", "novembro", "dezembro", "januar", "februar", "märz", "juni",
    "juli", "oktober", "dezember",
];

/// A date/time stamp among the first paragraphs ("| UPDATED: 10:43, Tue, Nov 19, 2019",
/// "By X - 11/18/19 11:04 PM EST"): at most 12 words, not ending like a sentence, not a
/// quoted tweet's attribution ("— Name (@handle) Date"), with a clock time or a year next
/// to a month name or a numeric date.
fn is_header_dateline(p: &str) -> bool {
    let l = p.trim().to_lowercase();
    if l.split_whitespace().count() > 12
        || l.ends_with(['.', '!', '?', '"', '”', ':'])
        || l.starts_with(['—', '-', '–'])
        || l.contains('@')
    {
        return false;
    }
    let chars: Vec<char> = l.chars().collect();
    let has_time = chars.windows(4).any(|w| {
        w[0].is_ascii_digit() && w[1] == ':' && w[2].is_ascii_digit() && w[3].is_ascii_digit()
    });
    let has_year = l
        .split(|c: char| !c.is_ascii_digit())
        .any(|d| d.len() == 4 && (d.starts_with("19") || d.starts_with("20")));
    let has_numdate = chars
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && (w[1] == '/' || w[1] == '.') && w[2].is_ascii_digit());
    let has_month = l.split(|c: char| !c.is_alphabetic()).any(|w| {
        w.chars().count() >= 3
            && MONTHS
                .iter()
                .any(|m| w.starts_with(m) && w.len() <= m.len() + 6)
    });
    has_time || (has_year && (has_month || has_numdate))
}

// ---------------------------------------------------------------------------------------------
// Article or not

/// Length in words; a run of CJK characters counts one word per two characters.
fn word_units(s: &str) -> usize {
    s.split_whitespace()
        .map(|w| {
            let cjk = w.chars().filter(|&c| is_cjk(c)).count();
            (cjk / 2).max(1)
        })
        .sum()
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

/// Is this an article page (rather than an index, listing, tag or navigation page)?
///
/// The extracted text must be mostly prose: under 50% of its characters inside links, not
/// a teaser list (3+ headings that link to other pages, one or more per two prose
/// paragraphs), and one of
/// - 150+ words with at least 3 paragraphs of 15+ words;
/// - 80+ words with at least 2 such paragraphs making up 60% or more of the text;
/// - when the page declares itself an article (og:type=article, a JSON-LD Article /
///   NewsArticle / BlogPosting..., article:published_time): 50+ words and one such paragraph.
///
/// On a listing page Readability picks a teaser list or a little text: short paragraphs,
/// linked headlines, many links.
#[must_use]
pub fn judge_article(text: &str, stats: &ContentStats, article_markup: bool) -> bool {
    let units = word_units(text);
    let prose: Vec<usize> = text
        .split("\n\n")
        .map(word_units)
        .filter(|&u| u >= 15)
        .collect();
    let prose_units: usize = prose.iter().sum();
    if stats.link_density >= 0.5
        || (stats.linked_headings >= 3 && stats.linked_headings * 2 >= prose.len())
    {
        return false;
    }
    (units >= 150 && prose.len() >= 3)
        || (units >= 80 && prose.len() >= 2 && prose_units * 10 >= units * 6)
        || (article_markup && units >= 50 && !prose.is_empty())
}

/// URLs of site fronts and index pages: an empty path or `/index.*`, or a first path segment
/// such as `tag`, `category`, `author`, `page`, `search`, `archive`.
#[must_use]
pub fn is_index_url(url: &str) -> bool {
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    let path = u.path().trim_matches('/').to_ascii_lowercase();
    if path.is_empty() || path.starts_with("index.") {
        return true;
    }
    let first = path.split('/').next().unwrap_or("");
    #[rustfmt::skip]
    const INDEX_SEGMENTS: &[&str] = &[
        "tag", "tags", "category", "categories", "topic", "topics", "author", "authors", "page",
        "search", "archive", "archives", "label", "labels",
    ];
    INDEX_SEGMENTS.contains(&first)
}
// ---------------------------------------------------------------------------------------------
// Metadata

struct Meta {
    title: Option<String>,
    author: Option<String>,
    date: Option<String>,
    lang: Option<String>,
    canonical: Option<String>,
    /// og:type=article, a JSON-LD article type, or article:published_time.
    article_markup: bool,
}

#[rustfmt::skip]
const JSONLD_ARTICLE_TYPES: &[&str] = &[
    "article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "techarticle",
    "scholarlyarticle", "liveblogposting", "report", "socialmediaposting", "satiricalarticle",
];

/// What the JSON-LD blocks of a page say about its article (first article-typed object;
/// else the first object that has the field).
#[derive(Default)]
struct JsonLd {
    headline: Option<String>,
    author: Option<String>,
    date: Option<String>,
    article_date: Option<String>,
    lang: Option<String>,
    url: Option<String>,
    site: Option<String>,
    is_article: bool,
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.map(|x| squash(&x)).filter(|x| !x.is_empty())
}

fn json_str(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => nonempty(Some(s.clone())),
        serde_json::Value::Array(a) => a.iter().find_map(json_str),
        serde_json::Value::Object(o) => {
            o.get("@value").or_else(|| o.get("name")).and_then(json_str)
        }
        _ => None,
    }
}

fn json_names(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => nonempty(Some(s.clone())).into_iter().collect(),
        serde_json::Value::Array(a) => a.iter().flat_map(json_names).collect(),
        serde_json::Value::Object(o) => o.get("name").map(json_names).unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn json_types(o: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
    match o.get("@type") {
        Some(serde_json::Value::String(s)) => vec![s.to_ascii_lowercase()],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|t| t.as_str().map(str::to_ascii_lowercase))
            .collect(),
        _ => Vec::new(),
    }
}

fn collect_objects<'v>(
    v: &'v serde_json::Value,
    out: &mut Vec<&'v serde_json::Map<String, serde_json::Value>>,
    depth: usize,
) {
    if depth > 6 {
        return;
    }
    match v {
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_objects(x, out, depth + 1)),
        serde_json::Value::Object(o) => {
            out.push(o);
            if let Some(g) = o.get("@graph") {
                collect_objects(g, out, depth + 1);
            }
            if let Some(m) = o.get("mainEntity") {
                collect_objects(m, out, depth + 1);
            }
        }
        _ => {}
    }
}

fn json_ld(doc: &Document) -> JsonLd {
    let mut values = Vec::new();
    for s in doc.select(r#"script[type="application/ld+json"]"#).nodes() {
        let raw = s.text();
        // Some pages wrap the JSON in a comment or CDATA section.
        let raw = raw
            .trim()
            .trim_start_matches("<!--")
            .trim_end_matches("-->")
            .trim();
        let raw = raw
            .trim_start_matches("<![CDATA[")
            .trim_end_matches("]]>")
            .trim();
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) {
            values.push(v);
        }
    }
    let mut objs = Vec::new();
    for v in &values {
        collect_objects(v, &mut objs, 0);
    }
    fn is_art(o: &serde_json::Map<String, serde_json::Value>) -> bool {
        json_types(o)
            .iter()
            .any(|t| JSONLD_ARTICLE_TYPES.contains(&t.as_str()))
    }
    // Article-typed objects first, then the rest (a WebPage may carry datePublished).
    let ordered: Vec<&serde_json::Map<String, serde_json::Value>> = objs
        .iter()
        .copied()
        .filter(|o| is_art(o))
        .chain(objs.iter().copied().filter(|o| !is_art(o)))
        .collect();
    let mut out = JsonLd {
        is_article: objs.iter().any(|o| is_art(o)),
        ..Default::default()
    };
    for o in ordered {
        out.headline = out
            .headline
            .or_else(|| o.get("headline").and_then(json_str));
        if out.author.is_none() {
            let names: Vec<String> = o
                .get("author")
                .or_else(|| o.get("creator"))
                .map(json_names)
                .unwrap_or_default();
            let names: Vec<String> = names.iter().filter_map(|n| clean_author(n)).collect();
            if !names.is_empty() {
                out.author = Some(names.join(", "));
            }
        }
        out.date = out.date.or_else(|| {
            o.get("datePublished")
                .or_else(|| o.get("dateCreated"))
                .and_then(json_str)
        });
        if is_art(o) {
            out.article_date = out
                .article_date
                .or_else(|| o.get("datePublished").and_then(json_str));
        }
        out.lang = out.lang.or_else(|| o.get("inLanguage").and_then(json_str));
        if is_art(o) {
            out.url = out.url.or_else(|| o.get("url").and_then(json_str));
        }
        out.site = out.site.or_else(|| o.get("publisher").and_then(json_str));
    }
    out
}

/// `<meta>` values by lower-cased name / property / itemprop / http-equiv (first wins).
fn meta_map(doc: &Document) -> std::collections::HashMap<String, String> {
    let mut m = std::collections::HashMap::new();
    for n in doc.select("meta").nodes() {
        let Some(content) = n.attr("content") else {
            continue;
        };
        let content = squash(&content);
        if content.is_empty() {
            continue;
        }
        for key in ["name", "property", "itemprop", "http-equiv"] {
            if let Some(k) = n.attr(key) {
                for k in k.split_whitespace() {
                    m.entry(k.to_ascii_lowercase())
                        .or_insert_with(|| content.clone());
                }
            }
        }
    }
    m
}

fn first_meta(m: &std::collections::HashMap<String, String>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| m.get(*k).cloned())
}

fn metadata(doc: &Document, url: Option<&str>) -> Meta {
    let m = meta_map(doc);
    let ld = json_ld(doc);

    // Title
    let site =
        first_meta(&m, &["og:site_name", "application-name", "twitter:site"]).or(ld.site.clone());
    let host = url
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_string));
    let title_tag = doc
        .select("head title")
        .nodes()
        .first()
        .map(|n| squash(&n.text()))
        .filter(|t| !t.is_empty());
    let h1 = doc
        .select("h1")
        .nodes()
        .first()
        .map(|n| squash(&n.text()))
        .filter(|t| !t.is_empty());
    // A JSON-LD headline is trusted over <title> only when <title> contains it: some sites
    // put a description there (Wikipedia: "Wikimedia list article").
    let ld_in_title = ld
        .headline
        .clone()
        .filter(|h| title_tag.as_ref().is_some_and(|t| t.contains(h.as_str())));
    let title = first_meta(
        &m,
        &["og:title", "twitter:title", "dc.title", "dcterms.title"],
    )
    .or(ld_in_title)
    .or(title_tag)
    .or(ld.headline.clone())
    .or(h1)
    .map(|t| strip_site_suffix(&t, site.as_deref(), host.as_deref()));

    // Author
    let meta_author = first_meta(
        &m,
        &[
            "author",
            "article:author",
            "byl",
            "dc.creator",
            "dcterms.creator",
            "parsely-author",
            "sailthru.author",
            "citation_author",
            "og:article:author",
        ],
    )
    .and_then(|a| clean_author(&a));
    let rel_author = doc
        .select(
            r#"a[rel~="author"], [itemprop~="author"] [itemprop~="name"], [itemprop~="author"]"#,
        )
        .nodes()
        .iter()
        .find_map(|n| {
            let v = n
                .attr("content")
                .map(|c| c.to_string())
                .unwrap_or_else(|| n.text().to_string());
            clean_author(&v)
        });
    let author = ld.author.clone().or(meta_author).or(rel_author);

    // Date
    // An article's JSON-LD datePublished first: article:published_time is sometimes the
    // time of the last update.
    let date = ld
        .article_date
        .clone()
        .or_else(|| {
            first_meta(
                &m,
                &[
                    "article:published_time",
                    "og:published_time",
                    "datepublished",
                ],
            )
        })
        .or(ld.date.clone())
        .or_else(|| {
            first_meta(
                &m,
                &[
                    "pubdate",
                    "publishdate",
                    "publish-date",
                    "publish_date",
                    "article.published",
                    "dc.date.issued",
                    "dcterms.issued",
                    "dcterms.created",
                    "dc.date",
                    "date",
                    "sailthru.date",
                    "parsely-pub-date",
                    "citation_publication_date",
                    "originalpublicationdate",
                ],
            )
        })
        .or_else(|| {
            doc.select(
                "time[pubdate][datetime], [itemprop~=\"datePublished\"][datetime], time[datetime]",
            )
            .nodes()
            .first()
            .and_then(|n| nonempty(n.attr("datetime").map(|d| d.to_string())))
        });

    // Language
    let html_lang = doc
        .select("html")
        .nodes()
        .first()
        .and_then(|n| n.attr("lang").or_else(|| n.attr("xml:lang")))
        .map(|l| l.to_string());
    let lang = html_lang
        .as_deref()
        .and_then(normalize_lang)
        .or_else(|| {
            first_meta(
                &m,
                &[
                    "content-language",
                    "language",
                    "dc.language",
                    "dcterms.language",
                ],
            )
            .as_deref()
            .and_then(normalize_lang)
        })
        .or_else(|| {
            first_meta(&m, &["og:locale"])
                .as_deref()
                .and_then(normalize_lang)
        })
        .or_else(|| ld.lang.as_deref().and_then(normalize_lang));

    // Canonical
    let canonical_raw = doc
        .select(r#"link[rel~="canonical"][href]"#)
        .nodes()
        .first()
        .and_then(|n| nonempty(n.attr("href").map(|h| h.to_string())))
        .or_else(|| first_meta(&m, &["og:url"]))
        .or(ld.url.clone());
    let canonical = canonical_raw.map(|c| {
        match (
            url::Url::parse(&c),
            url.and_then(|u| url::Url::parse(u).ok()),
        ) {
            (Ok(abs), _) => abs.to_string(),
            (Err(_), Some(base)) => base.join(&c).map(|u| u.to_string()).unwrap_or(c),
            (Err(_), None) => c,
        }
    });

    let article_markup = ld.is_article
        || m.get("og:type")
            .is_some_and(|t| t.eq_ignore_ascii_case("article"))
        || m.contains_key("article:published_time");
    Meta {
        title,
        author,
        date,
        lang,
        canonical,
        article_markup,
    }
}

/// Drop a " | Site" / " - Site" / " — Site" suffix (or "Site | " prefix) from a title:
/// the segment is dropped when it names the site (og:site_name, JSON-LD publisher or the
/// host name, compared without spaces and punctuation), or, for " | " and " :: ", when it
/// is the last of several segments and the rest keeps at least 3 words.
fn strip_site_suffix(title: &str, site: Option<&str>, host: Option<&str>) -> String {
    let key = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let site_key = site.map(key).filter(|k| k.len() >= 2);
    // Labels of the host name but the last (TLD), "www" and second-level "co"/"com"/...
    let host_keys: Vec<String> = host
        .map(|h| {
            let labels: Vec<&str> = h.split('.').collect();
            let n = labels.len().saturating_sub(1);
            labels[..n]
                .iter()
                .filter(|l| !["www", "co", "com", "org", "net", "ac", "gov"].contains(l))
                .map(|l| key(l))
                .filter(|k| k.len() >= 3)
                .collect()
        })
        .unwrap_or_default();
    let names_site = |seg: &str| {
        let k = key(seg);
        !k.is_empty()
            && (site_key.as_ref().is_some_and(|s| {
                k == *s
                    || (k.len() >= 4 && s.contains(&k))
                    || (s.len() >= 4 && k.contains(s.as_str()) && k.len() <= s.len() + 4)
            }) || host_keys
                .iter()
                .any(|h| k == *h || (k.len() >= 4 && h.contains(&k))))
    };
    let mut t = title.trim().to_string();
    for sep in [" | ", " - ", " – ", " — ", " :: ", " · ", " » ", " / "] {
        loop {
            if let Some(i) = t.rfind(sep) {
                let (head, tail) = (&t[..i], &t[i + sep.len()..]);
                let pipe_like = sep == " | " || sep == " :: ";
                if names_site(tail)
                    || (pipe_like
                        && head.split_whitespace().count() >= 3
                        && tail.split_whitespace().count() <= 4)
                {
                    t = head.trim().to_string();
                    continue;
                }
            }
            if let Some(i) = t.find(sep) {
                let (head, tail) = (&t[..i], &t[i + sep.len()..]);
                if names_site(head) && tail.split_whitespace().count() >= 2 {
                    t = tail.trim().to_string();
                    continue;
                }
            }
            break;
        }
    }
    if t.is_empty() {
        title.trim().to_string()
    } else {
        t
    }
}

/// A byline cleaned of "By ", of a trailing date ("Jane Roe March 11, 2015 3:46 PM"), of URLs
/// and of over-long text (a paragraph picked by mistake).
fn clean_author(s: &str) -> Option<String> {
    let s = squash(s);
    let lower = s.to_lowercase();
    if s.is_empty() || lower.starts_with("http") || lower.contains("://") {
        return None;
    }
    let mut words: Vec<&str> = s
        .split(' ')
        .take_while(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .collect();
    while let Some(last) = words.last() {
        let l = last
            .trim_matches(|c: char| !c.is_alphabetic())
            .to_lowercase();
        if l.is_empty()
            || DATE_WORDS
                .iter()
                .any(|d| l == *d || (l.len() >= 3 && d.starts_with(l.as_str())))
        {
            words.pop();
        } else {
            break;
        }
    }
    let mut t = words.join(" ");
    for p in ["by ", "by: ", "por ", "von ", "par ", "de "] {
        if t.len() > p.len() && t.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p)) {
            t = t[p.len()..].trim().to_string();
            break;
        }
    }
    let t =
        t.trim_matches(|c: char| c == ',' || c == '|' || c == '-' || c == '@' || c.is_whitespace());
    (!t.is_empty() && t.chars().count() <= 100 && t.chars().any(char::is_alphabetic))
        .then(|| t.to_string())
}

#[rustfmt::skip]
const DATE_WORDS: &[&str] = &[
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
    "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "on", "at", "updated", "published", "posted", "am", "pm",
];

/// "en-US", "en_GB", "EN", "eng", "zh-Hans-CN" -> ISO 639-1 ("en", "zh"); None for "und",
/// "x-default", "mul" and anything not a language code.
fn normalize_lang(raw: &str) -> Option<String> {
    let first = raw.split([',', ';']).next()?.trim();
    let primary = first.split(['-', '_']).next()?.trim().to_ascii_lowercase();
    if !primary.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let code = match primary.len() {
        2 => match primary.as_str() {
            "iw" => "he",
            "in" => "id",
            "ji" => "yi",
            p => p,
        }
        .to_string(),
        3 => ISO639_2
            .iter()
            .find(|(t, _)| *t == primary)
            .map(|(_, c)| c.to_string())?,
        _ => return None,
    };
    Some(code)
}

/// ISO 639-2 (terminology and bibliographic) to 639-1, for the languages news sites use.
#[rustfmt::skip]
const ISO639_2: &[(&str, &str)] = &[
    ("eng", "en"), ("deu", "de"), ("ger", "de"), ("fra", "fr"), ("fre", "fr"), ("spa", "es"),
    ("ita", "it"), ("por", "pt"), ("nld", "nl"), ("dut", "nl"), ("rus", "ru"), ("pol", "pl"),
    ("ces", "cs"), ("cze", "cs"), ("slk", "sk"), ("slo", "sk"), ("hun", "hu"), ("ron", "ro"),
    ("rum", "ro"), ("bul", "bg"), ("hrv", "hr"), ("srp", "sr"), ("slv", "sl"), ("ukr", "uk"),
    ("ell", "el"), ("gre", "el"), ("tur", "tr"), ("swe", "sv"), ("dan", "da"), ("nor", "no"),
    ("nob", "nb"), ("nno", "nn"), ("fin", "fi"), ("est", "et"), ("lav", "lv"), ("lit", "lt"),
    ("gle", "ga"), ("cym", "cy"), ("wel", "cy"), ("cat", "ca"), ("eus", "eu"), ("baq", "eu"),
    ("glg", "gl"), ("isl", "is"), ("ice", "is"), ("sqi", "sq"), ("alb", "sq"), ("mkd", "mk"),
    ("mac", "mk"), ("bel", "be"), ("bos", "bs"), ("ara", "ar"), ("heb", "he"), ("fas", "fa"),
    ("per", "fa"), ("urd", "ur"), ("hin", "hi"), ("ben", "bn"), ("zho", "zh"), ("chi", "zh"),
    ("jpn", "ja"), ("kor", "ko"), ("vie", "vi"), ("tha", "th"), ("ind", "id"), ("msa", "ms"),
    ("may", "ms"), ("tgl", "tl"), ("swa", "sw"), ("afr", "af"), ("hye", "hy"), ("arm", "hy"),
    ("kat", "ka"), ("geo", "ka"), ("aze", "az"), ("lat", "la"),
];

#[cfg(test)]
mod tests;
