//! RSS and Atom feeds (`.rss`, `.atom`, and `.xml` that is not a WordPress export): each item or
//! entry is an article. Read only: a feed is written by its CMS, so enrichments go to `-o FILE`.
mod reader;

pub use reader::{is_wordpress_export, read_feed, Item, SNIFF_LEN};

use super::{Format, Origin, Probe, RawRecord, ReadOptions, Records};
use std::io::Read;

/// RSS 2.0, RSS 1.0 (RDF) and Atom feeds.
pub struct Feed;

impl Format for Feed {
    fn name(&self) -> &'static str {
        "feed"
    }
    fn claims(&self, probe: &mut Probe) -> std::io::Result<bool> {
        Ok(match probe.extension() {
            "rss" | "atom" => true,
            "xml" => !is_wordpress_export(probe.head()?),
            _ => false,
        })
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["rss", "atom"]
    }
    fn read_stream(
        &self,
        name: String,
        mut reader: Box<dyn Read + Send>,
        _options: &ReadOptions,
    ) -> std::io::Result<Records> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        let records: Vec<RawRecord> = match read_feed(&name, &bytes) {
            Ok(items) => items
                .into_iter()
                .map(|item| RawRecord::new(Origin(item.origin), item.record))
                .collect(),
            Err(why) => vec![RawRecord::new(Origin(name), Err(why))],
        };
        Ok(Box::new(records.into_iter()))
    }
}
