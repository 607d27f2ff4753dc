//! Parquet tables (`.parquet`, as Spark, pandas and data warehouses write them): one article a row,
//! read one row group at a time so that memory stays flat whatever the file's size. `-o
//! out.parquet` writes every original column unchanged plus one column of lede's enrichment as JSON
//! text ([`io::ParquetOutput`]; JSON text rather than a struct: benches/SCALING.md).
pub mod io;

use super::{Format, Origin, RawRecord, ReadOptions, Records, WriteBack};
use serde_json::Value;
use std::path::Path;

/// Parquet files.
pub struct Parquet;

impl Format for Parquet {
    fn name(&self) -> &'static str {
        "parquet"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["parquet"]
    }
    fn read(&self, path: &Path, options: &ReadOptions) -> std::io::Result<Records> {
        let invalid = |e: io::ParquetIoError| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
        };
        // A table without any of the text columns is one clear error, not an error per row.
        let columns = io::parquet_columns(path).map_err(invalid)?;
        let wanted: Vec<&str> = options
            .fields
            .text
            .iter()
            .map(|f| f.split('.').next().unwrap_or(f))
            .collect();
        if !columns.iter().any(|c| wanted.contains(&c.as_str())) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "no text column (looked for {}; give --text-field): it has {}",
                    options.fields.text.join(", "),
                    columns.join(", ")
                ),
            ));
        }
        let name = path.display().to_string();
        let rows = io::ParquetRows::open(path).map_err(invalid)?;
        Ok(Box::new(rows.map(move |row| match row {
            Ok((index, record)) => {
                let mut raw = RawRecord::new(Origin(format!("{name} row {index}")), Ok(record));
                raw.source.row = Some(index);
                raw
            }
            Err(e) => RawRecord::new(Origin(name.clone()), Err(e.to_string())),
        })))
    }
    fn count(&self, path: &Path) -> Option<u64> {
        io::ParquetRows::open(path).ok().map(|rows| rows.num_rows())
    }
    fn write_back(
        &self,
        _original: &[u8],
        _records: &[Option<Value>],
        _options: &mut WriteBack,
    ) -> Result<Option<Vec<u8>>, String> {
        Err("a Parquet table is not rewritten in place: write the enriched table with -o FILE.parquet".into())
    }
}
