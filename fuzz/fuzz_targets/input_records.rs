//! Raw bytes as an input file (JSONL or a JSON array): reading every record and mapping each
//! readable one to an `Article` with the default field map must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let records = lede::formats::from_reader(
        "fuzz".to_string(),
        Box::new(std::io::Cursor::new(data.to_vec())),
    );
    let fields = lede::formats::FieldMap::default();
    for raw in records {
        if let Ok(map) = &raw.record {
            let _ = lede::formats::to_article(map, &fields);
        }
    }
});
