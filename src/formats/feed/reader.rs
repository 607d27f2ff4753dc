//! RSS 2.0, RSS 1.0 (RDF) and Atom 1.0 feeds read as article records.
//!
//! One streaming pass with quick-xml's namespace-aware reader. Elements are matched by namespace
//! URI, not by the prefix written, so `<c:encoded xmlns:c="http://purl.org/rss/1.0/modules/content/">`
//! is `content:encoded`; a prefix that was never declared falls back to its usual meaning
//! (`dc:`, `content:`, `atom:`, ...), as sloppy feeds rely on. The bytes are decoded first
//! (BOM, else the declared encoding, else UTF-8) with encoding_rs, then parsed as text.
//!
//! Self-contained: depends only on quick-xml, serde_json and encoding_rs.
//!
//! Over 800 lines on purpose: the parser, the XHTML writer, the HTML entity table and RFC 822 /
//! ISO 8601 dates make one reader that nothing else in lede uses (its tests are in `tests.rs`).

use std::borrow::Cow;

use encoding_rs::Encoding;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use quick_xml::XmlVersion;
use serde_json::{Map, Value};

/// One `<item>` or `<entry>` of a feed as a JSON record, or why it could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// `"{name} item {n}"` (n counts the feed's items or entries from 1); for a break in the
    /// XML between items, `"{name} after item {n}"`.
    pub origin: String,
    /// Keys in this order, only those present: `id`, `title`, `url`, `author`, `date`,
    /// `date_iso`, `updated`, `body`, `categories`, `feed`.
    pub record: Result<Map<String, Value>, String>,
}

/// [`is_wordpress_export`] looks at no more than this many leading bytes.
pub const SNIFF_LEN: usize = 8 * 1024;

/// True when the head of a file (its first [`SNIFF_LEN`] bytes are enough) is a WordPress
/// export (WXR) rather than a plain feed: the root element declares a namespace
/// `http://wordpress.org/export/...` (whatever its prefix, usually `xmlns:wp`), or a
/// `<wp:wxr_version>` element appears before the first item.
pub fn is_wordpress_export(head: &[u8]) -> bool {
    let head = &head[..head.len().min(SNIFF_LEN)];
    let before_items = &head[..find(head, b"<item").unwrap_or(head.len())];
    if find(before_items, b"<wp:wxr_version").is_some() {
        return true;
    }
    // Namespaces of the export are declared on <rss>, before <channel>.
    let root = &before_items[..find(before_items, b"<channel").unwrap_or(before_items.len())];
    let mut from = 0;
    while let Some(at) = find(&root[from..], b"xmlns:") {
        from += at + b"xmlns:".len();
        let rest = &root[from..];
        let name_len = rest
            .iter()
            .take_while(|b| !b.is_ascii_whitespace() && **b != b'=')
            .count();
        let rest = trim_ascii_start(&rest[name_len..]);
        let Some(rest) = rest.strip_prefix(b"=") else {
            continue;
        };
        let rest = trim_ascii_start(rest);
        let Some(rest) = rest.strip_prefix(b"\"").or_else(|| rest.strip_prefix(b"'")) else {
            continue;
        };
        if rest.starts_with(b"http://wordpress.org/export/")
            || rest.starts_with(b"https://wordpress.org/export/")
        {
            return true;
        }
    }
    false
}

/// Every `<item>` (RSS 2.0, 0.9x, 1.0/RDF) or `<entry>` (Atom) of the feed, in file order.
///
/// Record keys, each only when present and not blank (text is trimmed):
/// - `id`: RSS `guid`, else `link`, else RDF `rdf:about`; Atom `id`.
/// - `title`: as written, after one XML unescape (Atom `type="xhtml"`: the markup).
/// - `url`: RSS `link`, else a permalink `guid`; Atom `link rel="alternate"` (text/html first),
///   else the first `link href`.
/// - `author`: Atom `author/name`, else `dc:creator`, else RSS `author` (`jo@x.org (Jo)` gives
///   `Jo`); an entry with none takes the Atom feed's. A string, or an array when several.
/// - `date`: as written, from the first of `pubDate`, `dc:date`, `published`, `issued`,
///   `dcterms:issued`, `dcterms:created`, else `updated`, `modified`, `dcterms:modified`.
///   `date_iso`: the same as ISO 8601 (`2003-06-10T04:00:00Z`, offsets kept) when it parses
///   as RFC 822 or ISO 8601. `updated`: the modified date as written, when `date` is a
///   publication date and the entry has both.
/// - `body`: HTML. `content:encoded`, else `xhtml:body`, else Atom `content`, else
///   `description`, else `summary`, else `dc:description`. HTML that a feed entity-escapes
///   comes out unescaped once (`&lt;p&gt;` gives `<p>`); `type="xhtml"` content is the
///   markup inside its wrapper `<div>`; `type="text"` is HTML-escaped so that the body is
///   always HTML. Untyped Atom content (text, by the spec) is escaped too unless it holds
///   tags of common HTML elements, when it is taken as the HTML it is in practice; a type
///   that is no MIME type (feedgen's `type="CDATA"`) is read as HTML. Out-of-line (`src=`)
///   and binary content is skipped.
/// - `categories`: RSS `category`, `dc:subject`, Atom `category` (`label`, else `term`).
/// - `feed`: the channel's or feed's title.
///
/// Entities: XML's five and numeric ones are resolved (`&#150;`-style references to
/// windows-1252 code points become the characters HTML makes of them); HTML's named
/// entities (`&nbsp;`, `&mdash;`, ... all of HTML 4, undefined in XML but common in feeds)
/// are resolved too; any other entity is kept as written. A lone `&` is kept as text.
///
/// Err when the file is not a feed at all: no or another root element
/// (`not an RSS or Atom feed: root element <html>`), XML broken before the first item, or
/// an encoding encoding_rs does not know. When the XML breaks after the first item began,
/// the items read before the break are returned, followed by one whose record is
/// `Err("malformed XML at line L: ...")`; the item being read at the break is not returned.
/// Anything after the root element closes is ignored.
pub fn read_feed(name: &str, bytes: &[u8]) -> Result<Vec<Item>, String> {
    let text = decode(bytes)?;
    let scan = scan(&text)?;
    let feed_title = scan
        .feed
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let mut items: Vec<Item> = scan
        .entries
        .iter()
        .map(|entry| Item {
            origin: format!("{name} item {}", entry.number),
            record: Ok(entry.record(feed_title, &scan.feed.authors)),
        })
        .collect();
    if let Some(broken) = scan.broken {
        items.push(Item {
            origin: format!("{name} {}", broken.place),
            record: Err(broken.message),
        });
    }
    Ok(items)
}

// ---------------------------------------------------------------------------------------------
// Bytes to text

/// The file as text: a BOM decides, else the encoding its XML declaration names, else UTF-8.
/// Bytes that are invalid in that encoding become U+FFFD, as browsers and feed readers do.
/// `ISO-8859-1` is read as windows-1252 (the WHATWG mapping encoding_rs uses), which is
/// what feeds that say ISO-8859-1 but hold curly quotes in 0x80-0x9F actually are.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, String> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return Ok(encoding.decode_without_bom_handling(&bytes[bom_len..]).0);
    }
    if bytes.starts_with(b"<\0?\0") {
        return Ok(encoding_rs::UTF_16LE.decode_without_bom_handling(bytes).0);
    }
    if bytes.starts_with(b"\0<\0?") {
        return Ok(encoding_rs::UTF_16BE.decode_without_bom_handling(bytes).0);
    }
    let mut encoding = encoding_rs::UTF_8;
    if let Some(label) = declared_encoding(bytes) {
        encoding = Encoding::for_label(label.as_bytes()).ok_or_else(|| {
            format!("the XML declaration names encoding \"{label}\", which is not supported")
        })?;
        if encoding == encoding_rs::REPLACEMENT {
            return Err(format!(
                "the XML declaration names encoding \"{label}\", which is not supported"
            ));
        }
        // Says UTF-16 but has no BOM and starts as ASCII: it was saved as UTF-8 after all.
        if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
            encoding = encoding_rs::UTF_8;
        }
    }
    Ok(encoding.decode_without_bom_handling(bytes).0)
}

/// The `encoding` pseudo-attribute of a leading `<?xml ... ?>` declaration.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let bytes = trim_ascii_start(bytes);
    if !bytes.starts_with(b"<?xml") {
        return None;
    }
    let head = &bytes[..bytes.len().min(1024)];
    let declaration = &head[..find(head, b"?>")?];
    let after_key = &declaration[find(declaration, b"encoding")? + b"encoding".len()..];
    let value = trim_ascii_start(trim_ascii_start(after_key).strip_prefix(b"=")?);
    let quote = *value.first().filter(|q| **q == b'"' || **q == b'\'')?;
    let value = &value[1..];
    let end = value.iter().position(|b| *b == quote)?;
    Some(String::from_utf8_lossy(&value[..end]).trim().to_string())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn trim_ascii_start(bytes: &[u8]) -> &[u8] {
    let skip = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &bytes[skip..]
}

/// 1-based line of a byte offset, for error messages.
fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

// ---------------------------------------------------------------------------------------------
// Names

/// The vocabularies this module reads, by namespace.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ns {
    /// No namespace, RSS 1.0 / 0.90, or an undeclared-vocabulary default namespace: the
    /// feed's own elements.
    Plain,
    Atom,
    Content,
    Dc,
    DcTerms,
    Rdf,
    Xhtml,
    Other,
}

fn ns_of_uri(uri: &str) -> Ns {
    let uri = uri.trim().to_ascii_lowercase();
    let uri = uri
        .strip_prefix("https://")
        .map(|rest| format!("http://{rest}"))
        .unwrap_or(uri);
    match uri.trim_end_matches(['/', '#']) {
        "http://purl.org/rss/1.0"
        | "http://my.netscape.com/rdf/simple/0.9"
        | "http://backend.userland.com/rss2"
        | "http://blogs.law.harvard.edu/tech/rss" => Ns::Plain,
        "http://www.w3.org/2005/atom" | "http://purl.org/atom/ns" => Ns::Atom,
        "http://purl.org/rss/1.0/modules/content" => Ns::Content,
        "http://purl.org/dc/elements/1.1" => Ns::Dc,
        "http://purl.org/dc/terms" => Ns::DcTerms,
        "http://www.w3.org/1999/02/22-rdf-syntax-ns" => Ns::Rdf,
        "http://www.w3.org/1999/xhtml" => Ns::Xhtml,
        _ => Ns::Other,
    }
}

/// What a prefix nobody declared usually means.
fn ns_of_prefix(prefix: &str) -> Ns {
    match prefix {
        "atom" => Ns::Atom,
        "content" => Ns::Content,
        "dc" => Ns::Dc,
        "dcterms" => Ns::DcTerms,
        "rdf" => Ns::Rdf,
        "xhtml" => Ns::Xhtml,
        _ => Ns::Other,
    }
}

fn classify(resolved: &ResolveResult, qname: &str) -> Ns {
    match resolved {
        ResolveResult::Unbound => Ns::Plain,
        ResolveResult::Unknown(prefix) => ns_of_prefix(prefix),
        ResolveResult::Bound(ns) => match ns_of_uri(ns.0) {
            // A default namespace of some other URI: still the feed's own elements.
            Ns::Other if !qname.contains(':') => Ns::Plain,
            known => known,
        },
    }
}

/// An element open at some depth.
struct Open {
    ns: Ns,
    local: String,
    qname: String,
}

impl Open {
    fn is(&self, ns: Ns, local: &str) -> bool {
        self.ns == ns && self.local == local
    }
    /// An element of the feed's core vocabulary (Atom's or RSS's, which lenient feeds mix).
    fn is_core(&self, local: &str) -> bool {
        matches!(self.ns, Ns::Plain | Ns::Atom) && self.local == local
    }
}

// ---------------------------------------------------------------------------------------------
// What the pass collects

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rss,
    Rdf,
    Atom,
    /// An Atom Entry Document: the root is one `<entry>`.
    AtomEntry,
}

/// How an element's content becomes a string.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Text: entities resolved, child elements' tags dropped.
    Text,
    /// Atom text by default (no `type`): read as Text, but a body that looks like HTML is kept
    /// as HTML, as feed readers do (generators such as Python's feedgen leave the type out).
    Untyped,
    /// Escaped HTML: entities resolved (so unescaped once); stray child elements written back.
    Html,
    /// Inline XHTML: children written back as markup, entities kept as written.
    Xhtml,
}

/// The item children this module reads (rank: lower wins among fields of one kind).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Field {
    Title,
    Link,
    Guid,
    Id,
    /// RSS `<author>` (an e-mail address, perhaps with a name).
    RssAuthor,
    /// Atom `<author>`: the text of its `<name>`.
    AtomAuthor,
    Creator,
    Date(u8),
    Updated(u8),
    Body(u8),
    Category,
}

/// Where a captured element's text goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Target {
    Item(Field),
    FeedTitle,
    FeedAuthor,
}

/// The element whose content is being collected.
struct Capture {
    target: Target,
    mode: Mode,
    /// Stack depth of the captured element (1 for the root).
    depth: usize,
    text: String,
    /// Atom person constructs: the text of the `<name>` child.
    name: String,
    /// Xhtml: the depth of the wrapper `<div>` whose tags are left out.
    wrapper: Option<usize>,
    /// Xhtml: whether the wrapper `<div>` may still come (no child element seen yet).
    wrapper_possible: bool,
    /// RSS guid: `isPermaLink` was not "false".
    permalink: bool,
}

/// The values of one item or entry; the first occurrence of each field wins.
#[derive(Default)]
struct Entry {
    number: usize,
    title: Option<String>,
    link: Option<String>,
    guid: Option<(String, bool)>,
    atom_id: Option<String>,
    rdf_about: Option<String>,
    /// Atom links: (rel, type, href).
    links: Vec<(String, String, String)>,
    /// Atom `author/name`.
    names: Vec<String>,
    creators: Vec<String>,
    rss_authors: Vec<String>,
    dates: Vec<(u8, String)>,
    updated: Vec<(u8, String)>,
    bodies: Vec<(u8, String)>,
    categories: Vec<String>,
}

#[derive(Default)]
struct Feed {
    title: Option<String>,
    authors: Vec<String>,
}

struct Break {
    /// `item 4` or `after item 3`.
    place: String,
    /// `malformed XML at line L: ...`
    message: String,
}

struct Scan {
    entries: Vec<Entry>,
    feed: Feed,
    broken: Option<Break>,
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !value.is_empty() && !list.contains(&value) {
        list.push(value);
    }
}

fn first_ranked(values: &[(u8, String)]) -> Option<&str> {
    values
        .iter()
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, value)| value.as_str())
}

impl Entry {
    fn store(&mut self, field: Field, capture: &Capture) {
        let text = capture.text.trim();
        let owned = || text.to_string();
        match field {
            Field::Title => {
                if self.title.is_none() && !text.is_empty() {
                    self.title = Some(owned());
                }
            }
            Field::Link => {
                if self.link.is_none() && !text.is_empty() {
                    self.link = Some(owned());
                }
            }
            Field::Guid => {
                if self.guid.is_none() && !text.is_empty() {
                    self.guid = Some((owned(), capture.permalink));
                }
            }
            Field::Id => {
                if self.atom_id.is_none() && !text.is_empty() {
                    self.atom_id = Some(owned());
                }
            }
            Field::RssAuthor => push_unique(&mut self.rss_authors, person_name(text)),
            Field::Creator => push_unique(&mut self.creators, person_name(text)),
            Field::AtomAuthor => push_unique(&mut self.names, atom_person(capture)),
            Field::Date(rank) | Field::Updated(rank) | Field::Body(rank) => {
                let list = match field {
                    Field::Date(_) => &mut self.dates,
                    Field::Updated(_) => &mut self.updated,
                    _ => &mut self.bodies,
                };
                let value = match (field, capture.mode) {
                    (Field::Body(_), Mode::Text) => escape_html(text),
                    (Field::Body(_), Mode::Untyped) if !looks_like_html(text) => escape_html(text),
                    _ => owned(),
                };
                if !value.is_empty() && !list.iter().any(|(r, _)| *r == rank) {
                    list.push((rank, value));
                }
            }
            Field::Category => push_unique(&mut self.categories, owned()),
        }
    }

    fn record(&self, feed_title: Option<&str>, feed_authors: &[String]) -> Map<String, Value> {
        let mut record = Map::new();
        let mut put = |key: &str, value: Option<&str>| {
            if let Some(value) = value {
                record.insert(key.to_string(), Value::String(value.to_string()));
            }
        };
        let guid = self.guid.as_ref();
        let alternate = |html_only: bool| {
            self.links.iter().find(|(rel, kind, _)| {
                rel == "alternate" && (!html_only || kind.is_empty() || kind.contains("html"))
            })
        };
        let url = self
            .link
            .as_deref()
            .or_else(|| {
                guid.filter(|(g, permalink)| *permalink && looks_like_url(g))
                    .map(|(g, _)| g.as_str())
            })
            .or_else(|| {
                alternate(true)
                    .or_else(|| alternate(false))
                    .map(|l| l.2.as_str())
            })
            .or_else(|| self.links.first().map(|l| l.2.as_str()));
        let id = guid
            .map(|(g, _)| g.as_str())
            .or(self.atom_id.as_deref())
            .or(self.link.as_deref())
            .or(self.rdf_about.as_deref())
            .or(url);
        put("id", id);
        put("title", self.title.as_deref());
        put("url", url);
        let authors = [&self.names, &self.creators, &self.rss_authors]
            .into_iter()
            .find(|list| !list.is_empty())
            .map_or(feed_authors, |list| list.as_slice());
        match authors {
            [] => {}
            [one] => put("author", Some(one)),
            many => {
                let list = many.iter().map(|a| Value::String(a.clone())).collect();
                record.insert("author".to_string(), Value::Array(list));
            }
        }
        let mut put = |key: &str, value: Option<&str>| {
            if let Some(value) = value {
                record.insert(key.to_string(), Value::String(value.to_string()));
            }
        };
        let published = first_ranked(&self.dates);
        let updated = first_ranked(&self.updated);
        let date = published.or(updated);
        put("date", date);
        put("date_iso", date.and_then(iso_date).as_deref());
        if published.is_some() {
            put("updated", updated);
        }
        put("body", first_ranked(&self.bodies));
        if !self.categories.is_empty() {
            let list = self
                .categories
                .iter()
                .map(|c| Value::String(c.clone()))
                .collect();
            record.insert("categories".to_string(), Value::Array(list));
        }
        if let Some(title) = feed_title {
            record.insert("feed".to_string(), Value::String(title.to_string()));
        }
        record
    }
}

fn looks_like_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// `jo@example.org (Jo Bloggs)` and `Jo Bloggs <jo@example.org>` give `Jo Bloggs`.
fn person_name(text: &str) -> String {
    let text = text.trim();
    if let (Some(open), true) = (text.rfind('('), text.ends_with(')')) {
        let (address, name) = (text[..open].trim(), text[open + 1..text.len() - 1].trim());
        if address.contains('@') && !address.contains(' ') && !name.is_empty() {
            return name.to_string();
        }
    }
    if let (Some(open), true) = (text.rfind('<'), text.ends_with('>')) {
        let name = text[..open].trim().trim_matches('"').trim();
        if text[open..].contains('@') && !name.is_empty() {
            return name.to_string();
        }
    }
    text.to_string()
}

/// An Atom person: its `<name>`, else its text (lenient feeds write `<author>Jo</author>`).
fn atom_person(capture: &Capture) -> String {
    let name = capture.name.trim();
    if !name.is_empty() {
        return name.to_string();
    }
    person_name(capture.text.trim())
}

// ---------------------------------------------------------------------------------------------
// The streaming pass

/// Attribute values by local name (`rdf:about` is `about`), entities resolved where known.
fn attribute(start: &BytesStart, local: &str) -> Option<String> {
    for attribute in start.html_attributes().flatten() {
        let key = attribute.key.0;
        let key_local = key.rsplit(':').next().unwrap_or(key);
        if key_local == local && !key.starts_with("xmlns") {
            let value = attribute
                .normalized_value_with(XmlVersion::Implicit1_0, 1, resolve_named_entity)
                .map(Cow::into_owned)
                .unwrap_or_else(|_| attribute.value.clone().into_owned());
            return Some(value);
        }
    }
    None
}

/// How an Atom text construct or content element is written, from its `type` attribute;
/// None for content this module cannot turn into HTML (binary, other XML).
fn mode_of(type_attr: Option<&str>, default: Mode) -> Option<Mode> {
    let kind = type_attr.unwrap_or("").trim().to_ascii_lowercase();
    let mime = kind.split(';').next().unwrap_or("").trim();
    match mime {
        "" if default == Mode::Text => Some(Mode::Untyped),
        "" => Some(default),
        "text" | "text/plain" => Some(Mode::Text),
        "html" | "text/html" => Some(Mode::Html),
        "xhtml" | "application/xhtml+xml" => Some(Mode::Xhtml),
        other if other.starts_with("text/") => Some(Mode::Text),
        // Not a MIME type (feedgen writes `type="CDATA"`): what such feeds hold is HTML.
        other if !other.contains('/') => Some(Mode::Html),
        // Binary (base64) or other XML.
        _ => None,
    }
}

/// The item field an element is, with how its content is read; None for elements not read.
fn item_field(open: &Open, start: &BytesStart) -> Option<(Field, Mode)> {
    let type_attr = || attribute(start, "type");
    let text = Some(Mode::Text);
    let (field, mode) = match (open.ns, open.local.as_str()) {
        (Ns::Plain | Ns::Atom, "title") => {
            (Field::Title, mode_of(type_attr().as_deref(), Mode::Text))
        }
        (Ns::Plain | Ns::Atom, "link") => (Field::Link, text),
        (Ns::Plain, "guid") => (Field::Guid, text),
        (Ns::Plain | Ns::Atom, "id") => (Field::Id, text),
        (Ns::Atom, "author") => (Field::AtomAuthor, text),
        (Ns::Plain, "author") => (Field::RssAuthor, text),
        (Ns::Dc, "creator") => (Field::Creator, text),
        (Ns::Plain, "pubDate") => (Field::Date(0), text),
        (Ns::Dc, "date") => (Field::Date(1), text),
        (Ns::Plain | Ns::Atom, "published") => (Field::Date(2), text),
        (Ns::Plain | Ns::Atom, "issued") => (Field::Date(3), text),
        (Ns::DcTerms, "issued") => (Field::Date(4), text),
        (Ns::DcTerms, "created") => (Field::Date(5), text),
        (Ns::Plain | Ns::Atom, "updated") => (Field::Updated(0), text),
        (Ns::Plain | Ns::Atom, "modified") => (Field::Updated(1), text),
        (Ns::DcTerms, "modified") => (Field::Updated(2), text),
        (Ns::Content, "encoded") => (Field::Body(0), Some(Mode::Html)),
        (Ns::Xhtml, "body") => (Field::Body(1), Some(Mode::Xhtml)),
        (Ns::Plain | Ns::Atom, "content") => {
            if attribute(start, "src").is_some() {
                return None;
            }
            (Field::Body(2), mode_of(type_attr().as_deref(), Mode::Text))
        }
        (Ns::Plain, "description") => (Field::Body(3), mode_of(type_attr().as_deref(), Mode::Html)),
        (Ns::Plain | Ns::Atom, "summary") => {
            (Field::Body(4), mode_of(type_attr().as_deref(), Mode::Text))
        }
        (Ns::Dc, "description") => (Field::Body(5), Some(Mode::Html)),
        (Ns::Plain | Ns::Atom, "category") | (Ns::Dc, "subject") => (Field::Category, text),
        _ => return None,
    };
    Some((field, mode?))
}

struct Pass<'t> {
    text: &'t str,
    stack: Vec<Open>,
    kind: Option<Kind>,
    /// Stack depth of the item being read.
    item_depth: Option<usize>,
    current: Option<Entry>,
    count: usize,
    entries: Vec<Entry>,
    capture: Option<Capture>,
    feed: Feed,
}

/// The single pass. Err when the text is not a feed, or breaks before the first item.
fn scan(text: &str) -> Result<Scan, String> {
    let mut reader = NsReader::from_str(text);
    {
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.allow_dangling_amp = true;
    }
    let mut pass = Pass {
        text,
        stack: Vec::new(),
        kind: None,
        item_depth: None,
        current: None,
        count: 0,
        entries: Vec::new(),
        capture: None,
        feed: Feed::default(),
    };
    loop {
        let (ns, event) = match reader.read_resolved_event() {
            Ok((resolved, event)) => {
                let ns = match &event {
                    Event::Start(start) => classify(&resolved, start.name().0),
                    _ => Ns::Plain,
                };
                (ns, event)
            }
            Err(err) => {
                let at = reader.error_position() as usize;
                return pass.broken(at, err.to_string());
            }
        };
        match event {
            Event::Start(start) => pass.start(ns, &start)?,
            Event::End(_) => {
                pass.end();
                if pass.stack.is_empty() {
                    // The root closed: anything after it (junk a server appended) is ignored.
                    return Ok(pass.finish(None));
                }
            }
            Event::Text(content) => pass.text(&content.xml10_content()),
            Event::CData(content) => pass.cdata(&content.xml10_content()),
            Event::GeneralRef(reference) => pass.reference(&reference),
            Event::Comment(comment) => {
                if let Some(capture) = &mut pass.capture {
                    if capture.mode == Mode::Xhtml {
                        capture.text.push_str("<!--");
                        capture.text.push_str(&comment);
                        capture.text.push_str("-->");
                    }
                }
            }
            Event::Empty(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => {
                if let Some(open) = pass.stack.last() {
                    let why = format!("the file ends inside <{}>", open.qname);
                    return pass.broken(text.len(), why);
                }
                if pass.kind.is_none() {
                    return Err("not an RSS or Atom feed: no root element".to_string());
                }
                return Ok(pass.finish(None));
            }
        }
    }
}

impl Pass<'_> {
    fn finish(self, broken: Option<Break>) -> Scan {
        Scan {
            entries: self.entries,
            feed: self.feed,
            broken,
        }
    }

    /// The XML broke at byte `at`: fatal before the root or the first item, else a `Break`.
    fn broken(self, at: usize, why: String) -> Result<Scan, String> {
        let line = line_at(self.text, at);
        if self.kind.is_none() {
            return Err(format!(
                "not an RSS or Atom feed: malformed XML at line {line}: {why}"
            ));
        }
        if self.count == 0 {
            return Err(format!("malformed XML at line {line}: {why}"));
        }
        let place = match &self.current {
            Some(entry) => format!("item {}", entry.number),
            None => format!("after item {}", self.count),
        };
        let message = format!("malformed XML at line {line}: {why}");
        Ok(self.finish(Some(Break { place, message })))
    }

    fn start(&mut self, ns: Ns, start: &BytesStart) -> Result<(), String> {
        let qname = start.name().0.to_string();
        let local = start.local_name().into_inner().to_string();
        let open = Open { ns, local, qname };
        if self.stack.is_empty() {
            let kind = match (open.ns, open.local.as_str()) {
                (_, "rss") => Kind::Rss,
                (_, "RDF") => Kind::Rdf,
                (Ns::Plain | Ns::Atom, "feed") => Kind::Atom,
                (Ns::Plain | Ns::Atom, "entry") => Kind::AtomEntry,
                _ => {
                    return Err(format!(
                        "not an RSS or Atom feed: root element <{}>",
                        open.qname
                    ))
                }
            };
            self.kind = Some(kind);
            self.stack.push(open);
            if kind == Kind::AtomEntry {
                self.begin_item(start);
            }
            return Ok(());
        }
        self.stack.push(open);
        let depth = self.stack.len();
        let open = &self.stack[depth - 1];

        if let Some(capture) = &mut self.capture {
            capture.nested_start(open, start, depth);
            return Ok(());
        }
        if let Some(item_depth) = self.item_depth {
            if depth == item_depth + 1 {
                self.item_child(start);
            }
            return Ok(());
        }
        let parent = &self.stack[depth - 2];
        let kind = self.kind.unwrap_or(Kind::Rss);
        let is_item = match kind {
            Kind::Rss | Kind::Rdf => {
                open.is(Ns::Plain, "item")
                    && (parent.is(Ns::Plain, "channel")
                        || parent.local == "RDF"
                        || parent.local == "rss")
            }
            Kind::Atom => open.is_core("entry") && depth == 2,
            Kind::AtomEntry => false,
        };
        if is_item {
            self.begin_item(start);
            return Ok(());
        }
        // The channel's (RSS, RDF) or the feed's (Atom) own children.
        let feed_child = match kind {
            Kind::Rss | Kind::Rdf => depth == 3 && parent.is(Ns::Plain, "channel"),
            Kind::Atom => depth == 2,
            Kind::AtomEntry => false,
        };
        if feed_child {
            let target = if open.is_core("title") && self.feed.title.is_none() {
                Some(Target::FeedTitle)
            } else if kind == Kind::Atom && open.is_core("author") {
                Some(Target::FeedAuthor)
            } else {
                None
            };
            if let Some(target) = target {
                self.capture = Some(Capture::new(target, Mode::Text, depth));
            }
        }
        Ok(())
    }

    fn begin_item(&mut self, start: &BytesStart) {
        self.count += 1;
        self.item_depth = Some(self.stack.len());
        self.current = Some(Entry {
            number: self.count,
            rdf_about: attribute(start, "about")
                .map(|about| about.trim().to_string())
                .filter(|about| !about.is_empty()),
            ..Entry::default()
        });
    }

    /// A direct child of the item: read from its attributes, or start capturing its content.
    fn item_child(&mut self, start: &BytesStart) {
        let depth = self.stack.len();
        let open = &self.stack[depth - 1];
        let Some(entry) = &mut self.current else {
            return;
        };
        let Some((field, mode)) = item_field(open, start) else {
            return;
        };
        match field {
            Field::Link => {
                if let Some(href) = attribute(start, "href") {
                    let rel = attribute(start, "rel").unwrap_or_default();
                    let rel = if rel.trim().is_empty() {
                        "alternate".to_string()
                    } else {
                        rel.trim().to_ascii_lowercase()
                    };
                    let kind = attribute(start, "type")
                        .unwrap_or_default()
                        .to_ascii_lowercase();
                    let href = href.trim().to_string();
                    if !href.is_empty() {
                        entry.links.push((rel, kind, href));
                    }
                    return;
                }
            }
            Field::Category => {
                let named = attribute(start, "label")
                    .filter(|l| !l.trim().is_empty())
                    .or_else(|| attribute(start, "term"));
                if let Some(name) = named {
                    push_unique(&mut entry.categories, name.trim().to_string());
                    return;
                }
            }
            _ => {}
        }
        let mut capture = Capture::new(Target::Item(field), mode, depth);
        if field == Field::Guid {
            capture.permalink = attribute(start, "isPermaLink")
                .is_none_or(|p| !p.trim().eq_ignore_ascii_case("false"));
        }
        // Atom xhtml content sits in one wrapper <div>; RSS <xhtml:body> is its own wrapper.
        capture.wrapper_possible = mode == Mode::Xhtml && !matches!(field, Field::Body(1));
        self.capture = Some(capture);
    }

    fn end(&mut self) {
        let depth = self.stack.len();
        if let Some(capture) = &mut self.capture {
            if depth > capture.depth {
                capture.nested_end(&self.stack[depth - 1], depth);
            } else if let Some(capture) = self.capture.take() {
                match capture.target {
                    Target::Item(field) => {
                        if let Some(entry) = &mut self.current {
                            entry.store(field, &capture);
                        }
                    }
                    Target::FeedTitle => {
                        let title = capture.text.trim();
                        if !title.is_empty() {
                            self.feed.title = Some(title.to_string());
                        }
                    }
                    Target::FeedAuthor => {
                        push_unique(&mut self.feed.authors, atom_person(&capture))
                    }
                }
            }
        }
        if self.item_depth == Some(depth) {
            self.item_depth = None;
            if let Some(entry) = self.current.take() {
                self.entries.push(entry);
            }
        }
        self.stack.pop();
    }

    /// Text as the reader gives it: no `&` in it but a lone one, line ends normalized.
    fn text(&mut self, text: &str) {
        let depth = self.stack.len();
        let Some(capture) = &mut self.capture else {
            return;
        };
        let person = matches!(
            capture.target,
            Target::Item(Field::AtomAuthor) | Target::FeedAuthor
        );
        if !person || depth == capture.depth {
            capture.text.push_str(text);
        } else if depth == capture.depth + 1 && self.stack[depth - 1].local == "name" {
            // An Atom person's <name>; its <email> and <uri> are left out.
            capture.name.push_str(text);
        }
    }

    fn cdata(&mut self, text: &str) {
        if matches!(&self.capture, Some(c) if c.mode == Mode::Xhtml) {
            self.text(&escape_html(text));
        } else {
            self.text(text);
        }
    }

    fn reference(&mut self, reference: &BytesRef) {
        let Some(capture) = &self.capture else {
            return;
        };
        let entity: &str = reference;
        if capture.mode == Mode::Xhtml {
            // Markup: `&amp;` must stay `&amp;`, and HTML knows `&nbsp;` as XML does not.
            self.text(&format!("&{entity};"));
        } else {
            self.text(&resolve_reference(reference));
        }
    }
}

impl Capture {
    fn new(target: Target, mode: Mode, depth: usize) -> Self {
        Capture {
            target,
            mode,
            depth,
            text: String::new(),
            name: String::new(),
            wrapper: None,
            wrapper_possible: false,
            permalink: true,
        }
    }

    fn nested_start(&mut self, open: &Open, start: &BytesStart, depth: usize) {
        if matches!(self.mode, Mode::Text | Mode::Untyped) {
            return;
        }
        if self.wrapper_possible && depth == self.depth + 1 {
            self.wrapper_possible = false;
            if open.local == "div" && matches!(open.ns, Ns::Xhtml | Ns::Plain) {
                self.wrapper = Some(depth);
                return;
            }
        }
        write_start_tag(&mut self.text, open, start);
    }

    fn nested_end(&mut self, open: &Open, depth: usize) {
        if matches!(self.mode, Mode::Text | Mode::Untyped) {
            return;
        }
        if self.wrapper == Some(depth) {
            self.wrapper = None;
            return;
        }
        if !is_void(open) {
            self.text.push_str("</");
            self.text.push_str(markup_name(open));
            self.text.push('>');
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Markup and entities

/// HTML elements that have no end tag.
fn is_void(open: &Open) -> bool {
    matches!(open.ns, Ns::Xhtml | Ns::Plain)
        && matches!(
            open.local.as_str(),
            "area"
                | "base"
                | "br"
                | "col"
                | "embed"
                | "hr"
                | "img"
                | "input"
                | "link"
                | "meta"
                | "param"
                | "source"
                | "track"
                | "wbr"
        )
}

/// XHTML elements lose their prefix (`<xhtml:p>` is `<p>` to an HTML parser); others keep it.
fn markup_name(open: &Open) -> &str {
    match open.ns {
        Ns::Xhtml | Ns::Plain => &open.local,
        _ => &open.qname,
    }
}

/// A start tag written back as HTML, without namespace declarations.
fn write_start_tag(out: &mut String, open: &Open, start: &BytesStart) {
    out.push('<');
    out.push_str(markup_name(open));
    for attribute in start.html_attributes().flatten() {
        let key = attribute.key.0;
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        // The raw value keeps its entities, as markup should; it cannot hold its own quote.
        let quote = if attribute.value.contains('"') {
            '\''
        } else {
            '"'
        };
        out.push(' ');
        out.push_str(key);
        out.push('=');
        out.push(quote);
        out.push_str(&attribute.value);
        out.push(quote);
    }
    out.push('>');
}

/// Whether text holds a tag of a common HTML element (`<p>`, `</a>`, `<br/>`, `<img src=..>`).
fn looks_like_html(text: &str) -> bool {
    const ELEMENTS: &[&str] = &[
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "dd",
        "div",
        "dl",
        "dt",
        "em",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "q",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "td",
        "th",
        "tr",
        "u",
        "ul",
    ];
    text.match_indices('<').any(|(at, _)| {
        let rest = &text[at + 1..];
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        let name_len = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
        let after = rest[name_len..].chars().next();
        ELEMENTS.contains(&rest[..name_len].to_ascii_lowercase().as_str())
            && matches!(after, Some('>' | '/' | ' ' | '\t' | '\n' | '\r'))
    })
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The text of an entity or character reference; an unknown one is kept as written.
fn resolve_reference(reference: &BytesRef) -> String {
    let entity: &str = reference;
    match reference.resolve_char_ref() {
        // HTML reads references to C1 controls as windows-1252 (`&#146;` is `’`).
        Ok(Some(c)) if ('\u{80}'..='\u{9f}').contains(&c) => {
            let byte = [c as u32 as u8];
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(&byte)
                .0
                .into_owned()
        }
        Ok(Some(c)) => c.to_string(),
        Ok(None) => match resolve_named_entity(entity) {
            Some(resolved) => resolved.to_string(),
            None => format!("&{entity};"),
        },
        Err(_) => '\u{FFFD}'.to_string(),
    }
}

/// XML's predefined entities and HTML 4's named ones.
fn resolve_named_entity(name: &str) -> Option<&'static str> {
    resolve_predefined_entity(name).or_else(|| {
        HTML_ENTITIES
            .binary_search_by(|(key, _)| (*key).cmp(name))
            .ok()
            .map(|at| HTML_ENTITIES[at].1)
    })
}

/// HTML 4.01's named character references (and `apos`), sorted by name.
#[rustfmt::skip]
const HTML_ENTITIES: &[(&str, &str)] = &[
    ("AElig", "\u{c6}"), ("Aacute", "\u{c1}"), ("Acirc", "\u{c2}"), ("Agrave", "\u{c0}"),
    ("Alpha", "\u{391}"), ("Aring", "\u{c5}"), ("Atilde", "\u{c3}"), ("Auml", "\u{c4}"),
    ("Beta", "\u{392}"), ("Ccedil", "\u{c7}"), ("Chi", "\u{3a7}"), ("Dagger", "\u{2021}"),
    ("Delta", "\u{394}"), ("ETH", "\u{d0}"), ("Eacute", "\u{c9}"), ("Ecirc", "\u{ca}"),
    ("Egrave", "\u{c8}"), ("Epsilon", "\u{395}"), ("Eta", "\u{397}"), ("Euml", "\u{cb}"),
    ("Gamma", "\u{393}"), ("Iacute", "\u{cd}"), ("Icirc", "\u{ce}"), ("Igrave", "\u{cc}"),
    ("Iota", "\u{399}"), ("Iuml", "\u{cf}"), ("Kappa", "\u{39a}"), ("Lambda", "\u{39b}"),
    ("Mu", "\u{39c}"), ("Ntilde", "\u{d1}"), ("Nu", "\u{39d}"), ("OElig", "\u{152}"),
    ("Oacute", "\u{d3}"), ("Ocirc", "\u{d4}"), ("Ograve", "\u{d2}"), ("Omega", "\u{3a9}"),
    ("Omicron", "\u{39f}"), ("Oslash", "\u{d8}"), ("Otilde", "\u{d5}"), ("Ouml", "\u{d6}"),
    ("Phi", "\u{3a6}"), ("Pi", "\u{3a0}"), ("Prime", "\u{2033}"), ("Psi", "\u{3a8}"),
    ("Rho", "\u{3a1}"), ("Scaron", "\u{160}"), ("Sigma", "\u{3a3}"), ("THORN", "\u{de}"),
    ("Tau", "\u{3a4}"), ("Theta", "\u{398}"), ("Uacute", "\u{da}"), ("Ucirc", "\u{db}"),
    ("Ugrave", "\u{d9}"), ("Upsilon", "\u{3a5}"), ("Uuml", "\u{dc}"), ("Xi", "\u{39e}"),
    ("Yacute", "\u{dd}"), ("Yuml", "\u{178}"), ("Zeta", "\u{396}"), ("aacute", "\u{e1}"),
    ("acirc", "\u{e2}"), ("acute", "\u{b4}"), ("aelig", "\u{e6}"), ("agrave", "\u{e0}"),
    ("alefsym", "\u{2135}"), ("alpha", "\u{3b1}"), ("amp", "\u{26}"), ("and", "\u{2227}"),
    ("ang", "\u{2220}"), ("apos", "\u{27}"), ("aring", "\u{e5}"), ("asymp", "\u{2248}"),
    ("atilde", "\u{e3}"), ("auml", "\u{e4}"), ("bdquo", "\u{201e}"), ("beta", "\u{3b2}"),
    ("brvbar", "\u{a6}"), ("bull", "\u{2022}"), ("cap", "\u{2229}"), ("ccedil", "\u{e7}"),
    ("cedil", "\u{b8}"), ("cent", "\u{a2}"), ("chi", "\u{3c7}"), ("circ", "\u{2c6}"),
    ("clubs", "\u{2663}"), ("cong", "\u{2245}"), ("copy", "\u{a9}"), ("crarr", "\u{21b5}"),
    ("cup", "\u{222a}"), ("curren", "\u{a4}"), ("dArr", "\u{21d3}"), ("dagger", "\u{2020}"),
    ("darr", "\u{2193}"), ("deg", "\u{b0}"), ("delta", "\u{3b4}"), ("diams", "\u{2666}"),
    ("divide", "\u{f7}"), ("eacute", "\u{e9}"), ("ecirc", "\u{ea}"), ("egrave", "\u{e8}"),
    ("empty", "\u{2205}"), ("emsp", "\u{2003}"), ("ensp", "\u{2002}"), ("epsilon", "\u{3b5}"),
    ("equiv", "\u{2261}"), ("eta", "\u{3b7}"), ("eth", "\u{f0}"), ("euml", "\u{eb}"),
    ("euro", "\u{20ac}"), ("exist", "\u{2203}"), ("fnof", "\u{192}"), ("forall", "\u{2200}"),
    ("frac12", "\u{bd}"), ("frac14", "\u{bc}"), ("frac34", "\u{be}"), ("frasl", "\u{2044}"),
    ("gamma", "\u{3b3}"), ("ge", "\u{2265}"), ("gt", "\u{3e}"), ("hArr", "\u{21d4}"),
    ("harr", "\u{2194}"), ("hearts", "\u{2665}"), ("hellip", "\u{2026}"), ("iacute", "\u{ed}"),
    ("icirc", "\u{ee}"), ("iexcl", "\u{a1}"), ("igrave", "\u{ec}"), ("image", "\u{2111}"),
    ("infin", "\u{221e}"), ("int", "\u{222b}"), ("iota", "\u{3b9}"), ("iquest", "\u{bf}"),
    ("isin", "\u{2208}"), ("iuml", "\u{ef}"), ("kappa", "\u{3ba}"), ("lArr", "\u{21d0}"),
    ("lambda", "\u{3bb}"), ("lang", "\u{2329}"), ("laquo", "\u{ab}"), ("larr", "\u{2190}"),
    ("lceil", "\u{2308}"), ("ldquo", "\u{201c}"), ("le", "\u{2264}"), ("lfloor", "\u{230a}"),
    ("lowast", "\u{2217}"), ("loz", "\u{25ca}"), ("lrm", "\u{200e}"), ("lsaquo", "\u{2039}"),
    ("lsquo", "\u{2018}"), ("lt", "\u{3c}"), ("macr", "\u{af}"), ("mdash", "\u{2014}"),
    ("micro", "\u{b5}"), ("middot", "\u{b7}"), ("minus", "\u{2212}"), ("mu", "\u{3bc}"),
    ("nabla", "\u{2207}"), ("nbsp", "\u{a0}"), ("ndash", "\u{2013}"), ("ne", "\u{2260}"),
    ("ni", "\u{220b}"), ("not", "\u{ac}"), ("notin", "\u{2209}"), ("nsub", "\u{2284}"),
    ("ntilde", "\u{f1}"), ("nu", "\u{3bd}"), ("oacute", "\u{f3}"), ("ocirc", "\u{f4}"),
    ("oelig", "\u{153}"), ("ograve", "\u{f2}"), ("oline", "\u{203e}"), ("omega", "\u{3c9}"),
    ("omicron", "\u{3bf}"), ("oplus", "\u{2295}"), ("or", "\u{2228}"), ("ordf", "\u{aa}"),
    ("ordm", "\u{ba}"), ("oslash", "\u{f8}"), ("otilde", "\u{f5}"), ("otimes", "\u{2297}"),
    ("ouml", "\u{f6}"), ("para", "\u{b6}"), ("part", "\u{2202}"), ("permil", "\u{2030}"),
    ("perp", "\u{22a5}"), ("phi", "\u{3c6}"), ("pi", "\u{3c0}"), ("piv", "\u{3d6}"),
    ("plusmn", "\u{b1}"), ("pound", "\u{a3}"), ("prime", "\u{2032}"), ("prod", "\u{220f}"),
    ("prop", "\u{221d}"), ("psi", "\u{3c8}"), ("quot", "\u{22}"), ("rArr", "\u{21d2}"),
    ("radic", "\u{221a}"), ("rang", "\u{232a}"), ("raquo", "\u{bb}"), ("rarr", "\u{2192}"),
    ("rceil", "\u{2309}"), ("rdquo", "\u{201d}"), ("real", "\u{211c}"), ("reg", "\u{ae}"),
    ("rfloor", "\u{230b}"), ("rho", "\u{3c1}"), ("rlm", "\u{200f}"), ("rsaquo", "\u{203a}"),
    ("rsquo", "\u{2019}"), ("sbquo", "\u{201a}"), ("scaron", "\u{161}"), ("sdot", "\u{22c5}"),
    ("sect", "\u{a7}"), ("shy", "\u{ad}"), ("sigma", "\u{3c3}"), ("sigmaf", "\u{3c2}"),
    ("sim", "\u{223c}"), ("spades", "\u{2660}"), ("sub", "\u{2282}"), ("sube", "\u{2286}"),
    ("sum", "\u{2211}"), ("sup", "\u{2283}"), ("sup1", "\u{b9}"), ("sup2", "\u{b2}"),
    ("sup3", "\u{b3}"), ("supe", "\u{2287}"), ("szlig", "\u{df}"), ("tau", "\u{3c4}"),
    ("there4", "\u{2234}"), ("theta", "\u{3b8}"), ("thetasym", "\u{3d1}"), ("thinsp", "\u{2009}"),
    ("thorn", "\u{fe}"), ("tilde", "\u{2dc}"), ("times", "\u{d7}"), ("trade", "\u{2122}"),
    ("uArr", "\u{21d1}"), ("uacute", "\u{fa}"), ("uarr", "\u{2191}"), ("ucirc", "\u{fb}"),
    ("ugrave", "\u{f9}"), ("uml", "\u{a8}"), ("upsih", "\u{3d2}"), ("upsilon", "\u{3c5}"),
    ("uuml", "\u{fc}"), ("weierp", "\u{2118}"), ("xi", "\u{3be}"), ("yacute", "\u{fd}"),
    ("yen", "\u{a5}"), ("yuml", "\u{ff}"), ("zeta", "\u{3b6}"), ("zwj", "\u{200d}"),
    ("zwnj", "\u{200c}"),
];

// ---------------------------------------------------------------------------------------------
// Dates

/// The date as ISO 8601 when it is RFC 822 (`Tue, 10 Jun 2003 04:00:00 GMT`) or already
/// ISO 8601 / W3C-DTF: `2003-06-10T04:00:00Z`, `...+02:00`, no offset when none was given
/// (or an unknown zone name), `2003-06-10` for a date alone.
fn iso_date(text: &str) -> Option<String> {
    let text = text.trim();
    parse_iso8601(text).or_else(|| parse_rfc822(text))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        _ => 28,
    }
}

fn valid_date(year: u32, month: u32, day: u32) -> bool {
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

fn digits(text: &str, len: usize) -> Option<u32> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// `Z`, `+hh:mm`, `+hhmm` or `+hh` as ISO's `Z` / `+hh:mm`.
fn iso_offset(zone: &str) -> Option<String> {
    if zone.eq_ignore_ascii_case("z") {
        return Some("Z".to_string());
    }
    let sign = zone.chars().next().filter(|c| *c == '+' || *c == '-')?;
    let rest = zone[1..].replace(':', "");
    let (hours, minutes) = match rest.len() {
        2 => (digits(&rest, 2)?, 0),
        4 => (digits(&rest[..2], 2)?, digits(&rest[2..], 2)?),
        _ => return None,
    };
    (hours <= 23 && minutes <= 59).then(|| format!("{sign}{hours:02}:{minutes:02}"))
}

fn parse_iso8601(text: &str) -> Option<String> {
    let split = if text.len() > 10 { 10 } else { text.len() };
    let (date, rest) = (text.get(..split)?, text.get(split..)?);
    let year = digits(date.get(..4)?, 4)?;
    let month = digits(date.get(5..7)?, 2)?;
    let day = digits(date.get(8..10)?, 2)?;
    if &date[4..5] != "-" || &date[7..8] != "-" || !valid_date(year, month, day) {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if rest.is_empty() {
        return Some(date);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(zone_at);
    let (clock, fraction) = match time.split_once('.') {
        Some((clock, fraction))
            if !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (clock, format!(".{fraction}"))
        }
        Some(_) => return None,
        None => (time, String::new()),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let (hour, minute, second) = match parts.as_slice() {
        [h, m] => (digits(h, 2)?, digits(m, 2)?, 0),
        [h, m, s] => (digits(h, 2)?, digits(m, 2)?, digits(s, 2)?),
        _ => return None,
    };
    if hour > 23 || minute > 59 || second > 60 || (!fraction.is_empty() && parts.len() < 3) {
        return None;
    }
    let zone = if zone.is_empty() {
        String::new()
    } else {
        iso_offset(zone)?
    };
    Some(format!(
        "{date}T{hour:02}:{minute:02}:{second:02}{fraction}{zone}"
    ))
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    if lower.len() < 3 {
        return None;
    }
    let position = MONTHS.iter().position(|m| lower.starts_with(m))?;
    // Full names and `Sept` are fine; `Marching` is not.
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    (FULL[position].starts_with(&lower) || lower == "sept").then_some(position as u32 + 1)
}

/// RFC 822 / 2822 dates as RSS writes them, with the usual liberties: no weekday, one-digit
/// days, two-digit years, no seconds, zone names, `Month Day Year` order.
fn parse_rfc822(text: &str) -> Option<String> {
    let mut tokens = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .peekable();
    let mut first = tokens.next()?;
    if first.chars().all(|c| c.is_ascii_alphabetic() || c == '.') && month_number(first).is_none() {
        first = tokens.next()?; // the weekday
    }
    let (day, month) = match month_number(first) {
        Some(month) => (tokens.next()?, month),
        None => (first, month_number(tokens.next()?)?),
    };
    let day: u32 = day
        .trim_end_matches(['s', 't', 'n', 'd', 'r', 'h'])
        .parse()
        .ok()?;
    let year = tokens.next()?;
    let year = match year.len() {
        4 => digits(year, 4)?,
        2 => {
            let short = digits(year, 2)?;
            if short < 50 {
                2000 + short
            } else {
                1900 + short
            }
        }
        _ => return None,
    };
    if !valid_date(year, month, day) {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    let Some(time) = tokens.next() else {
        return Some(date);
    };
    let parts: Vec<&str> = time.split(':').collect();
    let number = |s: &str| (s.len() <= 2).then(|| s.parse::<u32>().ok()).flatten();
    let (hour, minute, second) = match parts.as_slice() {
        [h, m] => (number(h)?, number(m)?, 0),
        [h, m, s] => (number(h)?, number(m)?, number(s)?),
        _ => return None,
    };
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let zone = match tokens.next() {
        None => String::new(),
        Some(zone) => match zone.to_ascii_uppercase().as_str() {
            "GMT" | "UT" | "UTC" | "Z" => "Z".to_string(),
            "EST" => "-05:00".to_string(),
            "EDT" => "-04:00".to_string(),
            "CST" => "-06:00".to_string(),
            "CDT" => "-05:00".to_string(),
            "MST" => "-07:00".to_string(),
            "MDT" => "-06:00".to_string(),
            "PST" => "-08:00".to_string(),
            "PDT" => "-07:00".to_string(),
            other if other.starts_with(['+', '-']) => iso_offset(other)?,
            // Military letters and other names: the offset is unknown.
            other if other.chars().all(|c| c.is_ascii_alphabetic()) => String::new(),
            _ => return None,
        },
    };
    // A trailing comment such as `(UTC)` is allowed; other words are not.
    if tokens.any(|t| !(t.starts_with('(') || t.ends_with(')'))) {
        return None;
    }
    Some(format!("{date}T{hour:02}:{minute:02}:{second:02}{zone}"))
}

#[cfg(test)]
mod tests;
