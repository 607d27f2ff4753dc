//! Any UTF-8 string as an article body: HTML-to-text conversion, and sentence splitting of its
//! output, must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let text = lede::formats::html::html_to_text(s);
        let _ = lede::stages::segment::split_sentences(&text, "en");
    }
});
