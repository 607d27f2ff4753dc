//! WordPress exports (WXR 1.2): read the posts and pages as JSON records, and write an
//! enriched copy of the same file that differs only in the excerpts and tags it changes.
//!
//! WXR is RSS 2.0 with WordPress namespaces. WordPress always writes the same prefixes
//! (`wp:`, `content:`, `excerpt:`, `dc:`), so elements are matched by their written names.
//! Both directions share one streaming pass (`scan`) that records each item's values and
//! the byte spans an edit needs, so the writer can splice text into the original bytes
//! instead of re-serialising (and subtly reformatting) the whole export.
//!
//! Over 800 lines on purpose: reading and the byte-exact rewrite share one scanner of element
//! ranges; split, each half would need the other's internals.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::ops::Range;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde_json::{Map, Value};

/// One post or page of the export, as a JSON record, or why it could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct WxrPost {
    /// `"{name}: post {wp:post_id}"`, or `"{name}: item {n}"` (n counts all items from 1) when
    /// the item has no post id; for a break between items, `"{name}: after item {n}"`.
    pub origin: String,
    /// Keys in this order, only those present: `id`, `title`, `content`, `excerpt`, `status`,
    /// `post_type`, `slug`, `date`, `author`, `url`, `categories`, `tags`.
    pub record: Result<Map<String, Value>, String>,
}

/// Changes to one item of the export, for [`write_enriched`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostUpdate {
    /// wp:post_id of the item to change.
    pub post_id: String,
    /// Replace the item's <excerpt:encoded> text with this (None: leave it alone).
    pub excerpt: Option<String>,
    /// Tag names to add as <category domain="post_tag" nicename="SLUG"><![CDATA[NAME]]></category>,
    /// skipping any the item already has (same name case-insensitively, or same slug).
    pub add_tags: Vec<String>,
}

/// Every item whose wp:post_type is `post` or `page`, in file order.
///
/// Err only when the file is not a WXR export at all (not UTF-8, another declared encoding,
/// not well-formed XML before the first item, no `<rss>`/`<channel>`); the message says why,
/// with the line and byte offset, and does not repeat `name`. When the XML breaks after the
/// first item began, the posts read before the break are returned, followed by one entry
/// whose record is `Err("malformed XML at line L: ...")`. A post whose text holds an entity
/// XML does not define (such as `&nbsp;` outside CDATA) gets an Err record of its own.
/// `content` is the raw HTML as written in the file, after XML unescaping and CDATA.
pub fn read_posts(name: &str, bytes: &[u8]) -> Result<Vec<WxrPost>, String> {
    let text = utf8_export(bytes)?;
    let scan = scan(text)?;
    let mut posts: Vec<WxrPost> = scan
        .items
        .iter()
        .filter(|item| matches!(item.values.post_type.as_deref(), Some("post" | "page")))
        .map(|item| WxrPost {
            origin: format!("{name}: {}", item.label()),
            record: match &item.problem {
                Some(problem) => Err(problem.clone()),
                None => Ok(item.values.record()),
            },
        })
        .collect();
    if let Some(broken) = scan.broken {
        posts.push(WxrPost {
            origin: format!("{name}: {}", broken.where_label),
            record: Err(broken.message),
        });
    }
    Ok(posts)
}

/// The export with those changes; every byte outside the changed elements is kept exactly as it was.
/// Err when an update names a post id that is not in the file, or the file cannot be parsed.
///
/// A new excerpt replaces the inner text of `<excerpt:encoded>` (or a self-closing
/// `<excerpt:encoded/>`); an item without one gets it right after `</content:encoded>`, else
/// last. New tags go last, before `</item>`, each on its own line with the item's child
/// indentation and the file's line ending. Text goes into CDATA (`]]>` split as WordPress does),
/// without the control characters XML 1.0 forbids. Two updates for one post id are an error.
pub fn write_enriched(original: &[u8], updates: &[PostUpdate]) -> Result<Vec<u8>, String> {
    let text = utf8_export(original)?;
    let scan = scan(text)?;
    if let Some(broken) = scan.broken {
        return Err(format!(
            "cannot rewrite the export ({}): {}",
            broken.where_label, broken.message
        ));
    }

    let mut update_by_id: HashMap<&str, &PostUpdate> = HashMap::new();
    for update in updates {
        if update_by_id.insert(update.post_id.trim(), update).is_some() {
            return Err(format!(
                "two updates name post id {}",
                update.post_id.trim()
            ));
        }
    }
    let ids_in_file: HashSet<&str> = scan
        .items
        .iter()
        .filter_map(|item| item.values.post_id.as_deref())
        .collect();
    let missing: Vec<&str> = updates
        .iter()
        .map(|u| u.post_id.trim())
        .filter(|id| !ids_in_file.contains(id))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "post id(s) not in the export: {}",
            missing.join(", ")
        ));
    }

    let eol = line_ending(text);
    let mut edits = Vec::new();
    for item in &scan.items {
        let update = item
            .values
            .post_id
            .as_deref()
            .and_then(|id| update_by_id.get(id));
        if let Some(update) = update {
            plan_item_edits(item, update, eol, &mut edits);
        }
    }
    // Stable: an excerpt and tags inserted at the same place keep that order.
    edits.sort_by_key(|edit| edit.span.start);
    splice(original, &edits)
}

/// A tag or category name as WordPress's `sanitize_title` (in the default locale) makes it a slug.
///
/// Accents are removed as `remove_accents` does (`ą`→`a`, `ł`→`l`, `ä`→`a`, `ß`→`s`), tags
/// stripped, the text lowercased, other non-ASCII percent-encoded as lowercase UTF-8 octets
/// (`п`→`%d0%bf`, at most 200 encoded characters), spaces, dots, slashes and dashes become
/// one `-`, other punctuation is dropped (`_` is kept), and `-` is trimmed from both ends.
pub fn sanitize_title(title: &str) -> String {
    let title = strip_tags(&remove_accents(title));
    let title = drop_stray_percent_signs(&title).to_lowercase();
    let mut slug = utf8_uri_encode(&title, 200).to_ascii_lowercase();
    for (from, to) in SAVE_CONTEXT_REPLACEMENTS {
        if slug.contains(from) {
            slug = slug.replace(from, to);
        }
    }
    let slug = remove_html_entities(&slug).replace('.', "-");
    let mut out = String::with_capacity(slug.len());
    for c in slug.chars() {
        let c = if c == ' ' { '-' } else { c };
        let kept = c == '%' || c == '_' || c == '-' || c.is_ascii_lowercase() || c.is_ascii_digit();
        if kept && !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_matches('-').to_string()
}

// ---------------------------------------------------------------------------------------------
// Input checks

/// The bytes as UTF-8 text, or why not: WordPress always writes UTF-8, so anything else
/// is refused with a message naming what was found.
fn utf8_export(bytes: &[u8]) -> Result<&str, String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err("the file is UTF-16; only UTF-8 WXR exports are supported".to_string());
    }
    if let Some(encoding) = declared_encoding(bytes) {
        if !matches!(encoding.to_ascii_lowercase().as_str(), "utf-8" | "utf8") {
            return Err(format!(
                "the XML declaration names encoding \"{encoding}\"; only UTF-8 is supported \
                 (WordPress always writes UTF-8)"
            ));
        }
    }
    std::str::from_utf8(bytes).map_err(|err| {
        let at = err.valid_up_to();
        format!(
            "invalid UTF-8 at line {} (byte {at}); WXR exports must be UTF-8",
            line_at(bytes, at)
        )
    })
}

/// The `encoding` pseudo-attribute of a leading `<?xml ... ?>` declaration. Read by hand
/// because it must be known before the bytes are trusted to be UTF-8.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if !bytes.starts_with(b"<?xml") {
        return None;
    }
    let end = bytes.windows(2).take(512).position(|pair| pair == b"?>")?;
    let declaration = String::from_utf8_lossy(&bytes[..end]);
    let after_key = &declaration[declaration.find("encoding")? + "encoding".len()..];
    let value = after_key.trim_start().strip_prefix('=')?.trim_start();
    let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let value = &value[1..];
    Some(value[..value.find(quote)?].to_string())
}

/// 1-based line of a byte offset, for error messages.
fn line_at(bytes: &[u8], offset: usize) -> usize {
    let end = offset.min(bytes.len());
    bytes[..end].iter().filter(|b| **b == b'\n').count() + 1
}

/// The file's own line ending, so inserted lines match their neighbours.
fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

// ---------------------------------------------------------------------------------------------
// The streaming pass

/// What one pass over the export found.
struct Scan {
    /// Every complete `<item>` of the channel, in file order (all post types).
    items: Vec<ScannedItem>,
    /// Set when the XML broke after the first item began.
    broken: Option<Break>,
}

/// Where and why the XML stopped being well-formed.
struct Break {
    /// `post 12`, `item 4` or `after item 3`.
    where_label: String,
    /// `malformed XML at line L: ...`
    message: String,
}

/// One item: its values, and the byte positions an edit needs.
struct ScannedItem {
    number: usize,
    values: ItemValues,
    /// The first problem that makes the values untrustworthy (an undefined entity).
    problem: Option<String>,
    excerpt: Option<ExcerptSpan>,
    /// Just after `</content:encoded>`.
    content_end: Option<usize>,
    /// Just after the last child, before the whitespace that leads to `</item>`.
    append_at: usize,
    /// Whitespace before the first child on its line (two tabs in WordPress exports).
    child_indent: Option<String>,
}

impl ScannedItem {
    fn label(&self) -> String {
        match &self.values.post_id {
            Some(id) => format!("post {id}"),
            None => format!("item {}", self.number),
        }
    }
}

/// How the item's excerpt element is written, as byte ranges into the file.
enum ExcerptSpan {
    /// Between `<excerpt:encoded>` and `</excerpt:encoded>`.
    Inner(Range<usize>),
    /// The whole `<excerpt:encoded/>` tag.
    SelfClosing(Range<usize>),
}

/// The item children this module reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Title,
    Link,
    PubDate,
    Creator,
    Content,
    Excerpt,
    PostId,
    PostDate,
    PostDateGmt,
    PostName,
    Status,
    PostType,
    Category,
    Other,
}

impl Field {
    fn of(element: &str) -> Field {
        match element {
            "title" => Field::Title,
            "link" => Field::Link,
            "pubDate" => Field::PubDate,
            "dc:creator" => Field::Creator,
            "content:encoded" => Field::Content,
            "excerpt:encoded" => Field::Excerpt,
            "wp:post_id" => Field::PostId,
            "wp:post_date" => Field::PostDate,
            "wp:post_date_gmt" => Field::PostDateGmt,
            "wp:post_name" => Field::PostName,
            "wp:status" => Field::Status,
            "wp:post_type" => Field::PostType,
            "category" => Field::Category,
            _ => Field::Other,
        }
    }
}

/// A `<category>` child: a category, a tag, or another taxonomy's term.
struct Term {
    domain: String,
    nicename: String,
    name: String,
}

/// The values of the children read, first occurrence wins.
#[derive(Default)]
struct ItemValues {
    title: Option<String>,
    link: Option<String>,
    pub_date: Option<String>,
    creator: Option<String>,
    content: Option<String>,
    excerpt: Option<String>,
    post_id: Option<String>,
    post_date: Option<String>,
    post_date_gmt: Option<String>,
    post_name: Option<String>,
    status: Option<String>,
    post_type: Option<String>,
    terms: Vec<Term>,
}

impl ItemValues {
    fn set(&mut self, field: Field, text: String) {
        let slot = match field {
            Field::Title => &mut self.title,
            Field::Link => &mut self.link,
            Field::PubDate => &mut self.pub_date,
            Field::Creator => &mut self.creator,
            Field::Content => &mut self.content,
            Field::Excerpt => &mut self.excerpt,
            Field::PostId => &mut self.post_id,
            Field::PostDate => &mut self.post_date,
            Field::PostDateGmt => &mut self.post_date_gmt,
            Field::PostName => &mut self.post_name,
            Field::Status => &mut self.status,
            Field::PostType => &mut self.post_type,
            Field::Category | Field::Other => return,
        };
        // Identifiers and dates are padded by hand-edited files now and then; prose is not touched.
        let text = match field {
            Field::Title | Field::Content | Field::Excerpt | Field::Creator => text,
            _ => text.trim().to_string(),
        };
        if field == Field::PostId && text.is_empty() {
            return;
        }
        slot.get_or_insert(text);
    }

    fn record(&self) -> Map<String, Value> {
        let mut record = Map::new();
        let mut put = |key: &str, value: Option<&String>| {
            if let Some(value) = value {
                record.insert(key.to_string(), Value::String(value.clone()));
            }
        };
        put("id", self.post_id.as_ref());
        put("title", self.title.as_ref());
        put("content", self.content.as_ref());
        put("excerpt", self.excerpt.as_ref());
        put("status", self.status.as_ref());
        put("post_type", self.post_type.as_ref());
        put("slug", self.post_name.as_ref());
        // Drafts carry `0000-00-00 00:00:00` as their GMT date: that is no date.
        let real_date = |date: &&String| !date.is_empty() && !date.starts_with("0000-00-00");
        let date = [&self.post_date_gmt, &self.post_date, &self.pub_date]
            .into_iter()
            .find_map(|date| date.as_ref().filter(real_date));
        put("date", date);
        put("author", self.creator.as_ref());
        put("url", self.link.as_ref());
        for (key, domain) in [("categories", "category"), ("tags", "post_tag")] {
            let names: Vec<Value> = self
                .terms
                .iter()
                .filter(|term| term.domain == domain)
                .map(|term| Value::String(term.name.clone()))
                .collect();
            if !names.is_empty() {
                record.insert(key.to_string(), Value::Array(names));
            }
        }
        record
    }
}

/// A direct child of the item whose text is being collected.
struct OpenChild {
    field: Field,
    text: String,
    domain: String,
    nicename: String,
    inner_start: usize,
}

/// The item being read.
struct ItemInProgress {
    item: ScannedItem,
    open_child: Option<OpenChild>,
    /// Whitespace text seen directly inside the item since the last child (for indentation).
    pending_whitespace: Option<String>,
}

impl ItemInProgress {
    fn new(number: usize, after_start_tag: usize) -> Self {
        ItemInProgress {
            item: ScannedItem {
                number,
                values: ItemValues::default(),
                problem: None,
                excerpt: None,
                content_end: None,
                append_at: after_start_tag,
                child_indent: None,
            },
            open_child: None,
            pending_whitespace: None,
        }
    }

    /// Remembers the indentation of the first child, from the whitespace before it.
    fn note_child_start(&mut self) {
        if let Some(whitespace) = self.pending_whitespace.take() {
            if self.item.child_indent.is_none() {
                if let Some(line_break) = whitespace.rfind('\n') {
                    self.item.child_indent = Some(whitespace[line_break + 1..].to_string());
                }
            }
        }
    }

    fn open(&mut self, start: &BytesStart, after: usize) {
        self.note_child_start();
        let field = Field::of(start.name().as_ref());
        let (mut domain, mut nicename) = (String::new(), String::new());
        if field == Field::Category {
            for attribute in start.attributes().flatten() {
                let value = attribute
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map(|v| v.into_owned())
                    .unwrap_or_default();
                match attribute.key.as_ref() {
                    "domain" => domain = value,
                    "nicename" => nicename = value,
                    _ => {}
                }
            }
        }
        self.open_child = Some(OpenChild {
            field,
            text: String::new(),
            domain,
            nicename,
            inner_start: after,
        });
    }

    fn close(&mut self, before: usize, after: usize) {
        let Some(child) = self.open_child.take() else {
            return;
        };
        self.item.append_at = after;
        match child.field {
            Field::Excerpt if self.item.excerpt.is_none() => {
                self.item.excerpt = Some(ExcerptSpan::Inner(child.inner_start..before));
            }
            Field::Content if self.item.content_end.is_none() => {
                self.item.content_end = Some(after)
            }
            Field::Category => {
                let term = Term {
                    domain: child.domain,
                    nicename: child.nicename,
                    name: child.text,
                };
                self.item.values.terms.push(term);
                return;
            }
            _ => {}
        }
        self.item.values.set(child.field, child.text);
    }

    /// A child written as `<name/>`.
    fn empty_child(&mut self, start: &BytesStart, before: usize, after: usize) {
        let first_excerpt =
            Field::of(start.name().0) == Field::Excerpt && self.item.excerpt.is_none();
        self.open(start, after);
        self.close(after, after);
        if first_excerpt {
            self.item.excerpt = Some(ExcerptSpan::SelfClosing(before..after));
        }
    }

    fn push_text(&mut self, text: &str) {
        if let Some(child) = &mut self.open_child {
            child.text.push_str(text);
        }
    }
}

/// The single streaming pass over the export. Err when the file is not a WXR export at all;
/// a break after the first item is reported in [`Scan::broken`] instead.
fn scan(text: &str) -> Result<Scan, String> {
    // quick-xml counts positions after a byte order mark; the edits need them in the file.
    let body = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let bom_len = text.len() - body.len();
    let mut reader = Reader::from_str(body);
    let mut open_elements: Vec<String> = Vec::new();
    let (mut seen_root, mut seen_channel) = (false, false);
    let mut items = Vec::new();
    let mut item_count = 0;
    let mut current: Option<ItemInProgress> = None;

    // Ends the pass at malformed XML: fatal before the first item, a `Break` after it.
    let fail = |items: Vec<ScannedItem>,
                current: &Option<ItemInProgress>,
                count: usize,
                at: usize,
                why: String| {
        let line = line_at(text.as_bytes(), at);
        if count == 0 {
            return Err(format!(
                "not a WXR export: malformed XML at line {line} (byte {at}): {why}"
            ));
        }
        let where_label = match current {
            Some(in_progress) => in_progress.item.label(),
            None => format!("after item {count}"),
        };
        let message = format!("malformed XML at line {line}: {why}");
        Ok(Scan {
            items,
            broken: Some(Break {
                where_label,
                message,
            }),
        })
    };

    loop {
        let before = reader.buffer_position() as usize + bom_len;
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(err) => {
                let at = reader.error_position() as usize + bom_len;
                return fail(items, &current, item_count, at, err.to_string());
            }
        };
        let after = reader.buffer_position() as usize + bom_len;
        // Depth 3 is a direct child of rss > channel > item.
        let in_item_directly = current.is_some() && open_elements.len() == 3;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) if open_elements.is_empty() => {
                let name = start.name().0.to_string();
                if seen_root {
                    return fail(
                        items,
                        &current,
                        item_count,
                        before,
                        format!("second root element <{name}>"),
                    );
                }
                if name != "rss" {
                    return Err(format!(
                        "not a WXR export: the root element is <{name}>, not <rss>"
                    ));
                }
                seen_root = true;
                if matches!(event, Event::Start(_)) {
                    open_elements.push(name);
                }
            }
            Event::Start(start) => {
                let name = start.name().0.to_string();
                if open_elements.len() == 1 && name == "channel" {
                    seen_channel = true;
                } else if open_elements.len() == 2
                    && open_elements[1] == "channel"
                    && name == "item"
                {
                    item_count += 1;
                    current = Some(ItemInProgress::new(item_count, after));
                } else if in_item_directly {
                    if let Some(in_progress) = &mut current {
                        in_progress.open(&start, after);
                    }
                }
                open_elements.push(name);
            }
            Event::Empty(start) => {
                let name = start.name().0;
                if open_elements.len() == 1 && name == "channel" {
                    seen_channel = true;
                } else if open_elements.len() == 2
                    && open_elements[1] == "channel"
                    && name == "item"
                {
                    item_count += 1;
                } else if in_item_directly {
                    if let Some(in_progress) = &mut current {
                        in_progress.empty_child(&start, before, after);
                    }
                }
            }
            Event::End(_) => {
                open_elements.pop();
                match open_elements.len() {
                    3 => {
                        if let Some(in_progress) = &mut current {
                            in_progress.close(before, after);
                        }
                    }
                    2 => {
                        if let Some(in_progress) = current.take() {
                            items.push(in_progress.item);
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(content) => {
                if let Some(in_progress) = &mut current {
                    if in_item_directly {
                        if content.trim().is_empty() {
                            in_progress.pending_whitespace = Some(String::from(&*content));
                        } else {
                            in_progress.pending_whitespace = None;
                            in_progress.item.append_at = after;
                        }
                    } else {
                        in_progress.push_text(&content);
                    }
                }
            }
            Event::CData(content) => {
                if let Some(in_progress) = &mut current {
                    in_progress.push_text(&content);
                    if in_item_directly {
                        in_progress.item.append_at = after;
                    }
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(in_progress) = &mut current {
                    match resolve_reference(&reference) {
                        Some(resolved) => in_progress.push_text(&resolved),
                        None if in_progress.item.problem.is_none() => {
                            let line = line_at(text.as_bytes(), before);
                            let entity: &str = &reference;
                            in_progress.item.problem =
                                Some(format!("undefined entity &{entity}; at line {line}"));
                        }
                        None => {}
                    }
                    if in_item_directly {
                        in_progress.item.append_at = after;
                    }
                }
            }
            Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {
                if let Some(in_progress) = &mut current {
                    if in_item_directly {
                        in_progress.pending_whitespace = None;
                        in_progress.item.append_at = after;
                    }
                }
            }
            Event::Decl(_) => {}
            Event::Eof => {
                if let Some(open) = open_elements.last() {
                    let why = format!("the file ends inside <{open}>");
                    return fail(items, &current, item_count, text.len(), why);
                }
                if !seen_root {
                    return Err("not a WXR export: no <rss> element".to_string());
                }
                if !seen_channel {
                    return Err("not a WXR export: <rss> has no <channel>".to_string());
                }
                return Ok(Scan {
                    items,
                    broken: None,
                });
            }
        }
    }
}

/// The text of a character reference or one of XML's five predefined entities.
fn resolve_reference(reference: &BytesRef) -> Option<String> {
    match reference.resolve_char_ref() {
        Ok(Some(c)) => Some(c.to_string()),
        Ok(None) => resolve_predefined_entity(reference).map(str::to_string),
        Err(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Replace `span` of the original bytes with `text` (an empty span inserts).
struct Edit {
    span: Range<usize>,
    text: String,
}

fn plan_item_edits(item: &ScannedItem, update: &PostUpdate, eol: &str, edits: &mut Vec<Edit>) {
    let indent = item.child_indent.as_deref().unwrap_or("\t\t");
    if let Some(excerpt) = &update.excerpt {
        let element = format!("<excerpt:encoded>{}</excerpt:encoded>", cdata(excerpt));
        edits.push(match &item.excerpt {
            Some(ExcerptSpan::Inner(span)) => Edit {
                span: span.clone(),
                text: cdata(excerpt),
            },
            Some(ExcerptSpan::SelfClosing(span)) => Edit {
                span: span.clone(),
                text: element,
            },
            None => {
                let at = item.content_end.unwrap_or(item.append_at);
                Edit {
                    span: at..at,
                    text: format!("{eol}{indent}{element}"),
                }
            }
        });
    }

    let mut known_names: HashSet<String> = HashSet::new();
    let mut known_slugs: HashSet<String> = HashSet::new();
    for term in item
        .values
        .terms
        .iter()
        .filter(|term| term.domain == "post_tag")
    {
        known_names.insert(term.name.trim().to_lowercase());
        known_slugs.insert(term.nicename.to_lowercase());
    }
    let mut new_tags = String::new();
    for name in &update.add_tags {
        let name = name.trim();
        let slug = sanitize_title(name);
        // A name with nothing left for a slug cannot become a WordPress tag.
        if slug.is_empty()
            || known_slugs.contains(&slug)
            || !known_names.insert(name.to_lowercase())
        {
            continue;
        }
        let _ = write!(
            new_tags,
            "{eol}{indent}<category domain=\"post_tag\" nicename=\"{slug}\">{}</category>",
            cdata(name)
        );
        known_slugs.insert(slug);
    }
    if !new_tags.is_empty() {
        edits.push(Edit {
            span: item.append_at..item.append_at,
            text: new_tags,
        });
    }
}

/// The original bytes with the (sorted, non-overlapping) edits applied.
fn splice(original: &[u8], edits: &[Edit]) -> Result<Vec<u8>, String> {
    let added: usize = edits.iter().map(|edit| edit.text.len()).sum();
    let mut out = Vec::with_capacity(original.len() + added);
    let mut copied_up_to = 0;
    for edit in edits {
        if edit.span.start < copied_up_to || edit.span.end > original.len() {
            return Err(format!(
                "internal error: overlapping edits at byte {}",
                edit.span.start
            ));
        }
        out.extend_from_slice(&original[copied_up_to..edit.span.start]);
        out.extend_from_slice(edit.text.as_bytes());
        copied_up_to = edit.span.end;
    }
    out.extend_from_slice(&original[copied_up_to..]);
    Ok(out)
}

/// Text as CDATA, the way WordPress's `wxr_cdata` writes it: `]]>` is split across two
/// sections. Characters XML 1.0 forbids anywhere are dropped so the file stays well-formed.
fn cdata(text: &str) -> String {
    let allowed = |c: &char| {
        matches!(c, '\t' | '\n' | '\r') || (*c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
    };
    let clean: String = text.chars().filter(allowed).collect();
    format!("<![CDATA[{}]]>", clean.replace("]]>", "]]]]><![CDATA[>"))
}

// ---------------------------------------------------------------------------------------------
// sanitize_title, step by step as WordPress does it

/// `sanitize_title_with_dashes` in the `save` context: text dropped or turned into a dash,
/// matched against the percent-encoded form.
const SAVE_CONTEXT_REPLACEMENTS: &[(&str, &str)] = &[
    // No-break space, en dash and em dash, as octets and as entities; the slash.
    ("%c2%a0", "-"),
    ("%e2%80%93", "-"),
    ("%e2%80%94", "-"),
    ("&nbsp;", "-"),
    ("&#160;", "-"),
    ("&ndash;", "-"),
    ("&#8211;", "-"),
    ("&mdash;", "-"),
    ("&#8212;", "-"),
    ("/", "-"),
    // Soft hyphen, inverted ! and ?, angle and curly quotes, bullet, (c) (r) degree, ellipsis,
    // (tm), acute/grave/macron/caron marks, zero-width and direction marks, byte order mark.
    ("%c2%ad", ""),
    ("%c2%a1", ""),
    ("%c2%bf", ""),
    ("%c2%ab", ""),
    ("%c2%bb", ""),
    ("%e2%80%b9", ""),
    ("%e2%80%ba", ""),
    ("%e2%80%98", ""),
    ("%e2%80%99", ""),
    ("%e2%80%9c", ""),
    ("%e2%80%9d", ""),
    ("%e2%80%9a", ""),
    ("%e2%80%9b", ""),
    ("%e2%80%9e", ""),
    ("%e2%80%9f", ""),
    ("%e2%80%a2", ""),
    ("%c2%a9", ""),
    ("%c2%ae", ""),
    ("%c2%b0", ""),
    ("%e2%80%a6", ""),
    ("%e2%84%a2", ""),
    ("%c2%b4", ""),
    ("%cb%8a", ""),
    ("%cc%81", ""),
    ("%cd%81", ""),
    ("%cc%80", ""),
    ("%cc%84", ""),
    ("%cc%8c", ""),
    ("%e2%80%8b", ""),
    ("%e2%80%8c", ""),
    ("%e2%80%8d", ""),
    ("%e2%80%8e", ""),
    ("%e2%80%8f", ""),
    ("%e2%80%aa", ""),
    ("%e2%80%ab", ""),
    ("%e2%80%ac", ""),
    ("%e2%80%ad", ""),
    ("%e2%80%ae", ""),
    ("%ef%bb%bf", ""),
    ("%ef%bf%bc", ""),
    // Spaces of other widths, line and paragraph separators.
    ("%e2%80%80", "-"),
    ("%e2%80%81", "-"),
    ("%e2%80%82", "-"),
    ("%e2%80%83", "-"),
    ("%e2%80%84", "-"),
    ("%e2%80%85", "-"),
    ("%e2%80%86", "-"),
    ("%e2%80%87", "-"),
    ("%e2%80%88", "-"),
    ("%e2%80%89", "-"),
    ("%e2%80%8a", "-"),
    ("%e2%80%a8", "-"),
    ("%e2%80%a9", "-"),
    ("%e2%80%af", "-"),
    // Multiplication sign.
    ("%c3%97", "x"),
];

/// `remove_accents` for the default locale: Latin-1 Supplement, Latin Extended-A, the
/// Latin Extended-B and Vietnamese letters WordPress maps, the euro and pound signs.
fn remove_accents(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match accent_free(c) {
            Some(plain) => out.push_str(plain),
            None => out.push(c),
        }
    }
    out
}

fn accent_free(c: char) -> Option<&'static str> {
    let plain = match c {
        'ª' | 'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'ǎ' | 'ɑ' => "a",
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' | 'Ă' | 'Ą' | 'Ǎ' => "A",
        'Æ' => "AE",
        'æ' => "ae",
        'Ç' | 'Ć' | 'Ĉ' | 'Ċ' | 'Č' => "C",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'Ð' | 'Ď' | 'Đ' => "D",
        'ð' | 'ď' | 'đ' => "d",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ĕ' | 'Ė' | 'Ę' | 'Ě' | '€' => "E",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'Ĝ' | 'Ğ' | 'Ġ' | 'Ģ' => "G",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'Ĥ' | 'Ħ' => "H",
        'ĥ' | 'ħ' => "h",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ĩ' | 'Ī' | 'Ĭ' | 'Į' | 'İ' | 'Ǐ' => "I",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' | 'ǐ' => "i",
        'Ĳ' => "IJ",
        'ĳ' => "ij",
        'Ĵ' => "J",
        'ĵ' => "j",
        'Ķ' => "K",
        'ķ' | 'ĸ' => "k",
        'Ĺ' | 'Ļ' | 'Ľ' | 'Ŀ' | 'Ł' => "L",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'Ñ' | 'Ń' | 'Ņ' | 'Ň' | 'Ŋ' => "N",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' | 'ŋ' => "n",
        'º' | 'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'ơ' | 'ǒ' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ŏ' | 'Ő' | 'Ơ' | 'Ǒ' => "O",
        'Œ' => "OE",
        'œ' => "oe",
        'Ŕ' | 'Ŗ' | 'Ř' => "R",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'Ś' | 'Ŝ' | 'Ş' | 'Š' | 'Ș' => "S",
        'ß' | 'ś' | 'ŝ' | 'ş' | 'š' | 'ſ' | 'ș' => "s",
        'Ţ' | 'Ť' | 'Ŧ' | 'Ț' => "T",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'Þ' => "TH",
        'þ' => "th",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ũ' | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' | 'Ư' => "U",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' | 'ư' => "u",
        // Ǔ ǔ Ǖ ǖ Ǘ ǘ Ǚ ǚ Ǜ ǜ alternate capital and small.
        '\u{01D3}'..='\u{01DC}' => ["U", "u"][(c as usize - 0x01D3) % 2],
        'Ŵ' => "W",
        'ŵ' => "w",
        'Ý' | 'Ŷ' | 'Ÿ' => "Y",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'Ź' | 'Ż' | 'Ž' => "Z",
        'ź' | 'ż' | 'ž' => "z",
        '£' => "",
        // Vietnamese vowels with marks, U+1EA0..U+1EF9: capital and small alternate.
        '\u{1EA0}'..='\u{1EF9}' => {
            let (capital, small) = match c {
                '\u{1EA0}'..='\u{1EB7}' => ("A", "a"),
                '\u{1EB8}'..='\u{1EC7}' => ("E", "e"),
                '\u{1EC8}'..='\u{1ECB}' => ("I", "i"),
                '\u{1ECC}'..='\u{1EE3}' => ("O", "o"),
                '\u{1EE4}'..='\u{1EF1}' => ("U", "u"),
                _ => ("Y", "y"),
            };
            [capital, small][c as usize % 2]
        }
        _ => return None,
    };
    Some(plain)
}

/// PHP's `strip_tags`, closely enough for names: `<` starts a tag unless a space follows.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '<' && chars.peek().is_some_and(|next| !next.is_whitespace()) {
            for skipped in chars.by_ref() {
                if skipped == '>' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Keeps `%` only where it starts an escaped octet (`%4f`), as WordPress does.
fn drop_stray_percent_signs(text: &str) -> String {
    let bytes = text.as_bytes();
    let is_hex = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_hexdigit);
    text.char_indices()
        .filter(|&(i, c)| c != '%' || (is_hex(i + 1) && is_hex(i + 2)))
        .map(|(_, c)| c)
        .collect()
}

/// WordPress's `utf8_uri_encode`: non-ASCII as `%xx` octets in lowercase hex, stopping
/// before the character that would make the result longer than `max_len`.
fn utf8_uri_encode(text: &str, max_len: usize) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for c in text.chars() {
        let encoded_len = if c.is_ascii() { 1 } else { c.len_utf8() * 3 };
        if out.len() + encoded_len > max_len {
            break;
        }
        if c.is_ascii() {
            out.push(c);
        } else {
            for byte in c.to_string().bytes() {
                let _ = write!(out, "%{byte:02x}");
            }
        }
    }
    out
}

/// Drops `&...;` runs as WordPress's `/&.+?;/` does (one line at most).
fn remove_html_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let entity_len = after
            .chars()
            .next()
            .filter(|first| *first != '\n')
            .and_then(|first| {
                let from = first.len_utf8();
                let stop = after[from..].find([';', '\n'])?;
                (after.as_bytes()[from + stop] == b';').then_some(from + stop + 1)
            });
        match entity_len {
            Some(len) => rest = &after[len..],
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// WordPress exports (WXR, `.xml`): one record per post or page; written back element by element,
/// so that a post that could not be read stays as it was, byte for byte.
pub struct Wxr;

impl super::Format for Wxr {
    fn name(&self) -> &'static str {
        "wxr"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["xml"]
    }
    fn writes_copies(&self) -> bool {
        true
    }
    fn claims(&self, probe: &mut super::Probe) -> std::io::Result<bool> {
        // Told from a plain feed by its content: the `wp:` export namespace.
        Ok(probe.extension() == "xml" && super::feed::is_wordpress_export(probe.head()?))
    }
    fn read_stream(
        &self,
        name: String,
        mut reader: Box<dyn std::io::Read + Send>,
        _options: &super::ReadOptions,
    ) -> std::io::Result<super::Records> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        let records: Vec<super::RawRecord> = match read_posts(&name, &bytes) {
            Ok(posts) => posts
                .into_iter()
                .map(|p| super::RawRecord::new(super::Origin(p.origin), p.record))
                .collect(),
            Err(why) => vec![super::RawRecord::new(
                super::Origin(name),
                Err(format!("not a WordPress export (WXR): {why}")),
            )],
        };
        Ok(Box::new(records.into_iter()))
    }
    fn on_failure(&self, readable: bool) -> super::OnFailure {
        if readable {
            super::OnFailure::Keep
        } else {
            super::OnFailure::Skip
        }
    }
    fn write_back(
        &self,
        original: &[u8],
        records: &[Option<Value>],
        options: &mut super::WriteBack,
    ) -> Result<Option<Vec<u8>>, String> {
        let records: Vec<Value> = records.iter().flatten().cloned().collect();
        let updates = wxr_updates(&records, options.output_key, options.markdown.overwrite);
        write_enriched(original, &updates).map(Some)
    }
}

/// What an enriched WordPress export gains per post: the teaser as its excerpt and the topic labels
/// as tags, each only where the post has none of its own (an editor's excerpt and tags win), unless
/// `overwrite` (then the excerpt is replaced and the labels are added to the post's tags).
fn wxr_updates(records: &[Value], output_key: &str, overwrite: bool) -> Vec<PostUpdate> {
    let blank = |v: Option<&Value>| v.is_none_or(crate::formats::markdown::is_blank);
    records
        .iter()
        .filter_map(|record| {
            let enrichment = record.get(output_key)?;
            if enrichment.get("error").is_some() {
                return None;
            }
            let post_id = record.get("id")?.as_str()?.to_string();
            let excerpt = enrichment["summary"]["text"]
                .as_str()
                .filter(|_| overwrite || blank(record.get("excerpt")))
                .map(String::from);
            let add_tags = if overwrite || blank(record.get("tags")) {
                enrichment["topics"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t["label"].as_str().map(String::from))
                    .collect()
            } else {
                Vec::new()
            };
            Some(PostUpdate {
                post_id,
                excerpt,
                add_tags,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
