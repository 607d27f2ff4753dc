//! Streaming Parquet input and output for lede.
//!
//! Over 800 lines on purpose: every Arrow type's conversion to JSON, and the lockstep writer
//! that copies the original columns, are one module nothing else uses (tests in `tests.rs`).
//!
//! * [`ParquetRows`] reads a `.parquet` file one row group at a time, in record batches of at
//!   most [`ReadOptions::batch_size`] rows, and yields each row as a JSON object
//!   (`serde_json::Map`) with its 0-based row index in the file. Memory is bounded by one
//!   batch plus the decoder's page buffers, whatever the file size.
//! * [`ParquetOutput`] writes the enriched file: it re-reads the input batch by batch in
//!   lockstep with the rows it is given, keeps every original column as the very same Arrow
//!   arrays (same schema, same schema metadata), appends one new column holding lede's result
//!   per row as JSON text (`Utf8`), and drops rows that were never pushed (arrow's filter
//!   kernel), so a shard that took only some rows writes only those. Two things are not
//!   bit-for-bit: a dictionary column is re-encoded (same type, same values, its dictionary
//!   holds only the values still used), and Spark's INT96 timestamps, which arrow-rs cannot
//!   write, become INT64 `TIMESTAMP(MICROS, UTC)` (see `int96_as_utc_micros`).
//! * [`parquet_columns`] lists the top-level column names from the footer alone.
//!
//! Value mapping (Parquet/Arrow -> JSON), see [`column_to_json`]:
//!
//! | Arrow type | JSON |
//! |---|---|
//! | Null | `null` (any null cell is `null`) |
//! | Boolean | `true`/`false` |
//! | Int8..Int64, UInt8..UInt64 | number (exact) |
//! | Float16/32/64 | number, shortest form that round-trips the stored float (`0.1f32` is `0.1`); NaN and ±inf are `null` |
//! | Utf8, LargeUtf8, Utf8View | string |
//! | Binary, LargeBinary, BinaryView, FixedSizeBinary | base64 string (standard alphabet, padded); with [`BinaryMode::Utf8Lossy`] a lossily decoded string (Spark's `binaryAsString`, for files whose writer stored text without the UTF8 annotation) |
//! | Decimal32/64/128/256 | **string**, exact (`"1234.50"`): a JSON number would be read back as a binary float by most consumers |
//! | Date32/Date64 | `"YYYY-MM-DD"` |
//! | Time32/Time64 | `"HH:MM:SS[.fff|.ffffff|.fffffffff]"` |
//! | Timestamp without time zone | `"YYYY-MM-DDTHH:MM:SS[.fff…]"` (naive, no suffix) |
//! | Timestamp with any time zone | the UTC instant with `Z`: `"YYYY-MM-DDTHH:MM:SS[.fff…]Z"` |
//! | Duration | string, ISO 8601 in seconds: `"PT90S"`, `"PT1.5S"`, `"-PT0.001S"` |
//! | Interval | object: `{"months"}`, `{"days","milliseconds"}` or `{"months","days","nanoseconds"}` |
//! | List, LargeList, FixedSizeList, ListView | array |
//! | Struct | object (field order kept) |
//! | Map | object; non-string keys are rendered as their JSON text; a repeated key keeps its last value |
//! | Dictionary(any key, V) | the decoded value of type V |
//!
//! Unions and run-end-encoded arrays (which the Parquet reader never produces) are an error.

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::temporal_conversions::{as_date, as_datetime, as_time};
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Date64Type, Decimal128Type, Decimal256Type, Decimal32Type,
    Decimal64Type, DecimalType, DurationMicrosecondType, DurationMillisecondType,
    DurationNanosecondType, DurationSecondType, Float16Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, IntervalDayTimeType, IntervalMonthDayNanoType,
    IntervalYearMonthType, Time32MillisecondType, Time32SecondType, Time64MicrosecondType,
    Time64NanosecondType, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, GenericListArray, GenericListViewArray, OffsetSizeTrait,
    RecordBatch,
};
use arrow_schema::{DataType, Field, IntervalUnit, Schema, SchemaRef, TimeUnit};
use arrow_select::filter::filter_record_batch;
use base64::Engine as _;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use serde_json::{Map, Number, Value};

/// Rows per record batch when reading (both for [`ParquetRows`] and for the lockstep re-read
/// in [`ParquetOutput`]). 1024 rows of 1 KB text is ~1 MB of Arrow data per batch.
pub const DEFAULT_BATCH_SIZE: usize = 1024;

/// Output row groups are closed at every input row-group boundary and, within one, once the
/// encoded data buffered in memory reaches this size (Spark's default `parquet.block.size`),
/// so a file written as one huge row group does not make the writer hold it all.
pub const MAX_OUTPUT_ROW_GROUP_BYTES: usize = 128 * 1024 * 1024;

/// Key under which Spark stores its own copy of the schema in the footer; Spark prefers it to
/// the Parquet schema, so it is updated with the new column (or dropped if unparsable).
const SPARK_ROW_METADATA: &str = "org.apache.spark.sql.parquet.row.metadata";

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Everything that can go wrong; every variant names the file.
#[derive(Debug)]
pub enum ParquetIoError {
    /// Opening, reading or writing the file failed.
    Io {
        /// The file being opened, read or written (input or output).
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file is not Parquet at all (no `PAR1` magic at its start, or too short).
    NotParquet {
        /// The file that was opened.
        path: PathBuf,
        /// Why it is not Parquet (its size, or the missing start magic).
        reason: String,
    },
    /// The file starts like Parquet but its footer is missing or unreadable: usually a
    /// truncated copy or a write that did not finish.
    Truncated {
        /// The file that was opened.
        path: PathBuf,
        /// What is wrong: no `PAR1` magic at the end, or the footer decoder's error.
        reason: String,
    },
    /// The footer was read but decoding data failed (corrupt page, unsupported codec, …).
    Corrupt {
        /// The file being read (input) or written (output).
        path: PathBuf,
        /// The reader's or writer's error message, often prefixed with the row group or column.
        detail: String,
    },
    /// A column type this module does not convert to JSON.
    Unsupported {
        /// The input file.
        path: PathBuf,
        /// Name of the top-level column that holds the unsupported type.
        column: String,
        /// The unsupported Arrow data type, as text (e.g. a union type).
        data_type: String,
    },
    /// The caller broke the API contract (row index out of order or out of range, …).
    Usage {
        /// The input file the call was about.
        path: PathBuf,
        /// What was wrong (unknown column, bad row index, encrypted file, …).
        message: String,
    },
}

impl fmt::Display for ParquetIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::NotParquet { path, reason } => {
                write!(f, "{}: not a Parquet file ({reason})", path.display())
            }
            Self::Truncated { path, reason } => {
                write!(
                    f,
                    "{}: truncated or incomplete Parquet file ({reason})",
                    path.display()
                )
            }
            Self::Corrupt { path, detail } => {
                write!(f, "{}: cannot read Parquet data: {detail}", path.display())
            }
            Self::Unsupported {
                path,
                column,
                data_type,
            } => write!(
                f,
                "{}: column {column:?} has type {data_type}, which cannot be converted to JSON",
                path.display()
            ),
            Self::Usage { path, message } => write!(f, "{}: {message}", path.display()),
        }
    }
}

impl std::error::Error for ParquetIoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// `Result` whose error defaults to [`ParquetIoError`].
pub type Result<T, E = ParquetIoError> = std::result::Result<T, E>;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ParquetIoError + '_ {
    move |source| ParquetIoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn corrupt(path: &Path, e: impl fmt::Display) -> ParquetIoError {
    ParquetIoError::Corrupt {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

/// Opens `path`, checks the Parquet magic at both ends (so "not Parquet" and "truncated" get
/// their own clear messages instead of the decoder's), then reads the footer.
fn open_parquet(path: &Path) -> Result<(File, ArrowReaderMetadata)> {
    let mut file = File::open(path).map_err(io_err(path))?;
    let len = file.metadata().map_err(io_err(path))?.len();
    let not_parquet = |reason: String| ParquetIoError::NotParquet {
        path: path.to_path_buf(),
        reason,
    };
    if len < 4 {
        return Err(not_parquet(format!("{len} bytes, too short")));
    }
    let mut head = [0u8; 4];
    file.read_exact(&mut head).map_err(io_err(path))?;
    if &head != b"PAR1" && &head != b"PARE" {
        return Err(not_parquet("it does not start with the PAR1 magic".into()));
    }
    let mut tail = [0u8; 4];
    file.seek(SeekFrom::End(-4)).map_err(io_err(path))?;
    file.read_exact(&mut tail).map_err(io_err(path))?;
    if &tail == b"PARE" || &head == b"PARE" {
        return Err(ParquetIoError::Usage {
            path: path.to_path_buf(),
            message: "encrypted Parquet files are not supported".into(),
        });
    }
    if len < 12 || &tail != b"PAR1" {
        return Err(ParquetIoError::Truncated {
            path: path.to_path_buf(),
            reason: format!("{len} bytes and no PAR1 footer magic at the end"),
        });
    }
    file.seek(SeekFrom::Start(0)).map_err(io_err(path))?;
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| {
        ParquetIoError::Truncated {
            path: path.to_path_buf(),
            reason: format!("bad footer: {e}"),
        }
    })?;
    Ok((file, int96_as_utc_micros(meta)))
}

/// Spark (by default) and Hive/Impala store timestamps as the deprecated INT96, which arrow-rs
/// reads as `Timestamp(ns)` without a zone and cannot write back. Read them instead as
/// `Timestamp(µs, "UTC")`: Spark's own precision and meaning (a UTC instant), no overflow
/// outside 1677..2262, and [`ParquetOutput`] then writes INT64 TIMESTAMP(MICROS, UTC), which
/// Spark reads as the same `timestamp` column (nanoseconds it could not read at all).
/// Applied to the top-level columns that contain an INT96 leaf; if arrow-rs refuses the hint,
/// the file is read as it was.
fn int96_as_utc_micros(meta: ArrowReaderMetadata) -> ArrowReaderMetadata {
    let descr = meta.parquet_schema();
    let int96_roots: Vec<usize> = (0..descr.num_columns())
        .filter(|&i| descr.column(i).physical_type() == parquet::basic::Type::INT96)
        .map(|i| descr.get_column_root_idx(i))
        .collect();
    if int96_roots.is_empty() {
        return meta;
    }
    fn hint(dt: &DataType) -> DataType {
        let f = |field: &Arc<Field>| {
            Arc::new(
                field
                    .as_ref()
                    .clone()
                    .with_data_type(hint(field.data_type())),
            )
        };
        match dt {
            DataType::Timestamp(TimeUnit::Nanosecond, None) => {
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            }
            DataType::List(c) => DataType::List(f(c)),
            DataType::LargeList(c) => DataType::LargeList(f(c)),
            DataType::FixedSizeList(c, n) => DataType::FixedSizeList(f(c), *n),
            DataType::Struct(fs) => DataType::Struct(fs.iter().map(f).collect()),
            DataType::Map(c, sorted) => DataType::Map(f(c), *sorted),
            other => other.clone(),
        }
    }
    let schema = meta.schema();
    let fields: Vec<Arc<Field>> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            if int96_roots.contains(&i) {
                Arc::new(
                    field
                        .as_ref()
                        .clone()
                        .with_data_type(hint(field.data_type())),
                )
            } else {
                field.clone()
            }
        })
        .collect();
    let hinted = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    ArrowReaderMetadata::try_new(
        meta.metadata().clone(),
        ArrowReaderOptions::new().with_schema(hinted),
    )
    .unwrap_or(meta)
}

/// Top-level column names of a Parquet file, in file order, from its footer alone (for a
/// message like "no text column; it has: a, b, c").
pub fn parquet_columns(path: &Path) -> Result<Vec<String>> {
    let (_, meta) = open_parquet(path)?;
    Ok(meta
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// How binary (non-UTF8-annotated byte array) columns become JSON.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BinaryMode {
    /// Standard base64 with padding: lossless.
    #[default]
    Base64,
    /// UTF-8, invalid sequences replaced by U+FFFD (like Spark's `binaryAsString`).
    Utf8Lossy,
}

/// Options for [`ParquetRows::open_with`]; the default reads all columns in batches of
/// [`DEFAULT_BATCH_SIZE`] rows, binary as base64.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Rows per record batch (and so the most rows converted to JSON at once).
    pub batch_size: usize,
    /// Read only these top-level columns (in file order); `None` reads all. Unknown names are
    /// an error that lists the file's columns.
    pub columns: Option<Vec<String>>,
    /// How binary columns become JSON (base64 by default).
    pub binary: BinaryMode,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            batch_size: DEFAULT_BATCH_SIZE,
            columns: None,
            binary: BinaryMode::Base64,
        }
    }
}

/// One row of a Parquet file: its 0-based index in the file and its columns as JSON.
pub type Row = (u64, Map<String, Value>);

/// Streams the rows of a Parquet file as JSON objects, one row group at a time.
///
/// ```no_run
/// use lede::formats::parquet::io::*;
/// for row in ParquetRows::open(std::path::Path::new("in.parquet"))? {
///     let (index, record) = row?;
///     // lede names it "in.parquet row {index}" in messages
/// }
/// # Ok::<(), ParquetIoError>(())
/// ```
pub struct ParquetRows {
    path: PathBuf,
    file: File,
    meta: ArrowReaderMetadata,
    options: ReadOptions,
    projection: ProjectionMask,
    /// First row index of each row group.
    row_group_starts: Vec<u64>,
    next_row_group: usize,
    reader: Option<ParquetRecordBatchReader>,
    /// Rows of the current batch not yet handed out (drained from the front).
    pending: std::vec::IntoIter<Map<String, Value>>,
    next_index: u64,
    failed: bool,
}

impl ParquetRows {
    /// Opens `path` with the default [`ReadOptions`] (all columns, [`DEFAULT_BATCH_SIZE`] rows
    /// per batch, binary as base64). Reads only the footer; rows are read as iterated.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, ReadOptions::default())
    }

    /// Opens `path` with `options`: checks the magic, reads the footer and resolves the column
    /// projection (an unknown column name is a [`ParquetIoError::Usage`] error). A batch size
    /// of 0 is treated as 1.
    pub fn open_with(path: &Path, options: ReadOptions) -> Result<Self> {
        let (file, meta) = open_parquet(path)?;
        let projection = match &options.columns {
            None => ProjectionMask::all(),
            Some(wanted) => {
                let fields = meta.schema().fields();
                let mut roots = Vec::with_capacity(wanted.len());
                for name in wanted {
                    match fields.iter().position(|f| f.name() == name) {
                        Some(i) => roots.push(i),
                        None => {
                            let have: Vec<&str> =
                                fields.iter().map(|f| f.name().as_str()).collect();
                            return Err(ParquetIoError::Usage {
                                path: path.to_path_buf(),
                                message: format!("no column {name:?}; it has: {}", have.join(", ")),
                            });
                        }
                    }
                }
                ProjectionMask::roots(meta.parquet_schema(), roots)
            }
        };
        let row_group_starts = row_group_starts(&meta);
        Ok(Self {
            path: path.to_path_buf(),
            file,
            meta,
            options: ReadOptions {
                batch_size: options.batch_size.max(1),
                ..options
            },
            projection,
            row_group_starts,
            next_row_group: 0,
            reader: None,
            pending: Vec::new().into_iter(),
            next_index: 0,
            failed: false,
        })
    }

    /// Total rows in the file, from the footer (for a progress bar).
    pub fn num_rows(&self) -> u64 {
        self.meta.metadata().file_metadata().num_rows().max(0) as u64
    }

    /// Number of row groups in the file, from the footer.
    pub fn num_row_groups(&self) -> usize {
        self.meta.metadata().num_row_groups()
    }

    /// All top-level column names of the file (not only the projected ones).
    pub fn columns(&self) -> Vec<String> {
        self.meta
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// The file's Arrow schema (all columns, with its metadata).
    pub fn schema(&self) -> &SchemaRef {
        self.meta.schema()
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if let Some(reader) = self.reader.as_mut() {
                match reader.next() {
                    Some(Ok(batch)) => return Ok(Some(batch)),
                    Some(Err(e)) => {
                        return Err(corrupt(
                            &self.path,
                            format_args!("row group {}: {e}", self.next_row_group - 1),
                        ))
                    }
                    None => self.reader = None,
                }
            }
            if self.next_row_group >= self.meta.metadata().num_row_groups() {
                return Ok(None);
            }
            let rg = self.next_row_group;
            self.next_row_group += 1;
            self.next_index = self.row_group_starts[rg];
            self.reader = Some(row_group_reader(
                &self.path,
                &self.file,
                &self.meta,
                rg,
                self.options.batch_size,
                self.projection.clone(),
            )?);
        }
    }
}

impl Iterator for ParquetRows {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            if let Some(map) = self.pending.next() {
                let index = self.next_index;
                self.next_index += 1;
                return Some(Ok((index, map)));
            }
            let batch = match self.next_batch() {
                Ok(Some(b)) => b,
                Ok(None) => return None,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            };
            match batch_to_rows(&batch, self.options.binary) {
                Ok(rows) => self.pending = rows.into_iter(),
                Err((column, e)) => {
                    self.failed = true;
                    return Some(Err(match e {
                        ConvError::Unsupported(dt) => ParquetIoError::Unsupported {
                            path: self.path.clone(),
                            column,
                            data_type: dt,
                        },
                        ConvError::Arrow(msg) => {
                            corrupt(&self.path, format_args!("column {column:?}: {msg}"))
                        }
                    }));
                }
            }
        }
    }
}

fn row_group_starts(meta: &ArrowReaderMetadata) -> Vec<u64> {
    let mut start = 0u64;
    meta.metadata()
        .row_groups()
        .iter()
        .map(|rg| {
            let s = start;
            start += rg.num_rows().max(0) as u64;
            s
        })
        .collect()
}

fn row_group_reader(
    path: &Path,
    file: &File,
    meta: &ArrowReaderMetadata,
    row_group: usize,
    batch_size: usize,
    projection: ProjectionMask,
) -> Result<ParquetRecordBatchReader> {
    let file = file.try_clone().map_err(io_err(path))?;
    ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone())
        .with_row_groups(vec![row_group])
        .with_batch_size(batch_size)
        .with_projection(projection)
        .build()
        .map_err(|e| corrupt(path, format_args!("row group {row_group}: {e}")))
}

/// Converts a record batch to one JSON object per row, column by column.
fn batch_to_rows(
    batch: &RecordBatch,
    binary: BinaryMode,
) -> std::result::Result<Vec<Map<String, Value>>, (String, ConvError)> {
    let schema = batch.schema();
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, array) in schema.fields().iter().zip(batch.columns()) {
        columns
            .push(column_to_json(array.as_ref(), binary).map_err(|e| (field.name().clone(), e))?);
    }
    let mut rows = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let mut map = Map::with_capacity(columns.len());
        for (field, values) in schema.fields().iter().zip(columns.iter_mut()) {
            map.insert(field.name().clone(), std::mem::take(&mut values[i]));
        }
        rows.push(map);
    }
    Ok(rows)
}

/// Why [`column_to_json`] could not convert an array.
#[derive(Debug)]
pub enum ConvError {
    /// The array's Arrow data type (as text) has no JSON mapping (union, run-end encoded, …).
    Unsupported(String),
    /// An Arrow error while converting (its message); reported as [`ParquetIoError::Corrupt`].
    Arrow(String),
}

fn float_json(v: f64) -> Value {
    Number::from_f64(v)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// f32 (and f16) via its own shortest decimal form, so 0.1f32 is written `0.1`, not
/// `0.10000000149011612`.
fn float32_json(v: f32) -> Value {
    if !v.is_finite() {
        return Value::Null;
    }
    float_json(v.to_string().parse::<f64>().unwrap_or(v as f64))
}

macro_rules! prim {
    ($array:expr, $t:ty, $f:expr) => {{
        let a = $array.as_primitive::<$t>();
        (0..a.len())
            .map(|i| {
                if a.is_null(i) {
                    Value::Null
                } else {
                    $f(a.value(i))
                }
            })
            .collect()
    }};
}

/// Converts one Arrow array to one JSON value per element (see the module docs for the mapping).
pub fn column_to_json(
    array: &dyn Array,
    binary: BinaryMode,
) -> std::result::Result<Vec<Value>, ConvError> {
    let n = array.len();
    let b64 = &base64::engine::general_purpose::STANDARD;
    let bin = |bytes: &[u8]| match binary {
        BinaryMode::Base64 => Value::String(b64.encode(bytes)),
        BinaryMode::Utf8Lossy => Value::String(String::from_utf8_lossy(bytes).into_owned()),
    };
    let strs = |it: &mut dyn Iterator<Item = Option<&str>>| -> Vec<Value> {
        it.map(|v| v.map_or(Value::Null, |s| Value::String(s.to_owned())))
            .collect()
    };
    Ok(match array.data_type() {
        DataType::Null => vec![Value::Null; n],
        DataType::Boolean => array
            .as_boolean()
            .iter()
            .map(|v| v.map_or(Value::Null, Value::Bool))
            .collect(),
        DataType::Int8 => prim!(array, Int8Type, Value::from),
        DataType::Int16 => prim!(array, Int16Type, Value::from),
        DataType::Int32 => prim!(array, Int32Type, Value::from),
        DataType::Int64 => prim!(array, Int64Type, Value::from),
        DataType::UInt8 => prim!(array, UInt8Type, Value::from),
        DataType::UInt16 => prim!(array, UInt16Type, Value::from),
        DataType::UInt32 => prim!(array, UInt32Type, Value::from),
        DataType::UInt64 => prim!(array, UInt64Type, Value::from),
        DataType::Float16 => prim!(
            array,
            Float16Type,
            |v: <Float16Type as ArrowPrimitiveType>::Native| float32_json(v.to_f32())
        ),
        DataType::Float32 => prim!(array, Float32Type, float32_json),
        DataType::Float64 => prim!(array, Float64Type, float_json),
        DataType::Utf8 => strs(&mut array.as_string::<i32>().iter()),
        DataType::LargeUtf8 => strs(&mut array.as_string::<i64>().iter()),
        DataType::Utf8View => strs(&mut array.as_string_view().iter()),
        DataType::Binary => array
            .as_binary::<i32>()
            .iter()
            .map(|v| v.map_or(Value::Null, bin))
            .collect(),
        DataType::LargeBinary => array
            .as_binary::<i64>()
            .iter()
            .map(|v| v.map_or(Value::Null, bin))
            .collect(),
        DataType::BinaryView => array
            .as_binary_view()
            .iter()
            .map(|v| v.map_or(Value::Null, bin))
            .collect(),
        DataType::FixedSizeBinary(_) => array
            .as_fixed_size_binary()
            .iter()
            .map(|v| v.map_or(Value::Null, bin))
            .collect(),
        DataType::Date32 => prim!(array, Date32Type, |v: i32| as_date::<Date32Type>(v as i64)
            .map_or(Value::from(v), |d| Value::String(
                d.format("%Y-%m-%d").to_string()
            ))),
        DataType::Date64 => prim!(array, Date64Type, |v: i64| as_date::<Date64Type>(v)
            .map_or(Value::from(v), |d| Value::String(
                d.format("%Y-%m-%d").to_string()
            ))),
        DataType::Time32(TimeUnit::Second) => {
            prim!(array, Time32SecondType, |v: i32| time_json::<
                Time32SecondType,
            >(v as i64))
        }
        DataType::Time32(_) => prim!(array, Time32MillisecondType, |v: i32| time_json::<
            Time32MillisecondType,
        >(v as i64)),
        DataType::Time64(TimeUnit::Microsecond) => prim!(
            array,
            Time64MicrosecondType,
            time_json::<Time64MicrosecondType>
        ),
        DataType::Time64(_) => prim!(
            array,
            Time64NanosecondType,
            time_json::<Time64NanosecondType>
        ),
        DataType::Timestamp(unit, tz) => {
            let utc = tz.is_some();
            match unit {
                TimeUnit::Second => prim!(array, TimestampSecondType, |v| ts_json::<
                    TimestampSecondType,
                >(v, utc)),
                TimeUnit::Millisecond => prim!(array, TimestampMillisecondType, |v| ts_json::<
                    TimestampMillisecondType,
                >(
                    v, utc
                )),
                TimeUnit::Microsecond => prim!(array, TimestampMicrosecondType, |v| ts_json::<
                    TimestampMicrosecondType,
                >(
                    v, utc
                )),
                TimeUnit::Nanosecond => prim!(array, TimestampNanosecondType, |v| ts_json::<
                    TimestampNanosecondType,
                >(
                    v, utc
                )),
            }
        }
        DataType::Decimal32(_, scale) => prim!(array, Decimal32Type, |v| decimal_json::<
            Decimal32Type,
        >(v, *scale)),
        DataType::Decimal64(_, scale) => prim!(array, Decimal64Type, |v| decimal_json::<
            Decimal64Type,
        >(v, *scale)),
        DataType::Decimal128(_, scale) => prim!(array, Decimal128Type, |v| decimal_json::<
            Decimal128Type,
        >(v, *scale)),
        DataType::Decimal256(_, scale) => prim!(array, Decimal256Type, |v| decimal_json::<
            Decimal256Type,
        >(v, *scale)),
        DataType::Duration(unit) => match unit {
            TimeUnit::Second => prim!(array, DurationSecondType, |v| duration_json(v as i128, 1)),
            TimeUnit::Millisecond => prim!(array, DurationMillisecondType, |v| duration_json(
                v as i128, 1_000
            )),
            TimeUnit::Microsecond => prim!(array, DurationMicrosecondType, |v| duration_json(
                v as i128, 1_000_000
            )),
            TimeUnit::Nanosecond => prim!(array, DurationNanosecondType, |v| duration_json(
                v as i128,
                1_000_000_000
            )),
        },
        DataType::Interval(IntervalUnit::YearMonth) => {
            prim!(
                array,
                IntervalYearMonthType,
                |v: i32| serde_json::json!({"months": v})
            )
        }
        DataType::Interval(IntervalUnit::DayTime) => prim!(
            array,
            IntervalDayTimeType,
            |v: <IntervalDayTimeType as ArrowPrimitiveType>::Native| {
                serde_json::json!({"days": v.days, "milliseconds": v.milliseconds})
            }
        ),
        DataType::Interval(IntervalUnit::MonthDayNano) => prim!(
            array,
            IntervalMonthDayNanoType,
            |v: <IntervalMonthDayNanoType as ArrowPrimitiveType>::Native| {
                serde_json::json!({"months": v.months, "days": v.days, "nanoseconds": v.nanoseconds})
            }
        ),
        DataType::List(_) => list_json(array.as_list::<i32>(), binary)?,
        DataType::LargeList(_) => list_json(array.as_list::<i64>(), binary)?,
        DataType::ListView(_) => list_view_json(array.as_list_view::<i32>(), binary)?,
        DataType::LargeListView(_) => list_view_json(array.as_list_view::<i64>(), binary)?,
        DataType::FixedSizeList(_, _) => {
            let l = array.as_fixed_size_list();
            let len = l.value_length() as usize;
            let mut values = column_to_json(l.values().as_ref(), binary)?;
            (0..n)
                .map(|i| {
                    if l.is_null(i) {
                        return Value::Null;
                    }
                    let start = l.value_offset_at(i);
                    Value::Array(
                        values[start..start + len]
                            .iter_mut()
                            .map(std::mem::take)
                            .collect(),
                    )
                })
                .collect()
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut children = Vec::with_capacity(fields.len());
            for c in s.columns() {
                children.push(column_to_json(c.as_ref(), binary)?);
            }
            (0..n)
                .map(|i| {
                    if s.is_null(i) {
                        return Value::Null;
                    }
                    let mut m = Map::with_capacity(fields.len());
                    for (f, vals) in fields.iter().zip(children.iter_mut()) {
                        m.insert(f.name().clone(), std::mem::take(&mut vals[i]));
                    }
                    Value::Object(m)
                })
                .collect()
        }
        DataType::Map(_, _) => {
            let m = array.as_map();
            let keys = column_to_json(m.keys().as_ref(), binary)?;
            let mut vals = column_to_json(m.values().as_ref(), binary)?;
            let offsets = m.value_offsets();
            (0..n)
                .map(|i| {
                    if m.is_null(i) {
                        return Value::Null;
                    }
                    let (a, b) = (offsets[i] as usize, offsets[i + 1] as usize);
                    let mut obj = Map::with_capacity(b - a);
                    for j in a..b {
                        let k = match &keys[j] {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        obj.insert(k, std::mem::take(&mut vals[j]));
                    }
                    Value::Object(obj)
                })
                .collect()
        }
        DataType::Dictionary(_, _) => {
            let d = array.as_any_dictionary();
            let values = column_to_json(d.values().as_ref(), binary)?;
            if values.is_empty() {
                vec![Value::Null; n]
            } else {
                let keys = d.normalized_keys();
                (0..n)
                    .map(|i| {
                        if d.is_null(i) {
                            Value::Null
                        } else {
                            values[keys[i]].clone()
                        }
                    })
                    .collect()
            }
        }
        other => return Err(ConvError::Unsupported(other.to_string())),
    })
}

fn decimal_json<T: DecimalType>(v: T::Native, scale: i8) -> Value {
    Value::String(T::format_decimal(v, T::MAX_PRECISION, scale))
}

/// ISO 8601 duration in seconds: `PT90S`, `PT1.5S`, `-PT0.000001S`.
fn duration_json(v: i128, per_second: i128) -> Value {
    let sign = if v < 0 { "-" } else { "" };
    let (secs, frac) = (
        v.unsigned_abs() / per_second as u128,
        v.unsigned_abs() % per_second as u128,
    );
    let digits = per_second.ilog10() as usize;
    let frac = if frac == 0 {
        String::new()
    } else {
        let f = format!(".{frac:0digits$}");
        f.trim_end_matches('0').to_string()
    };
    Value::String(format!("{sign}PT{secs}{frac}S"))
}

fn time_json<T: ArrowPrimitiveType>(v: i64) -> Value {
    as_time::<T>(v).map_or(Value::from(v), |t| {
        Value::String(t.format("%H:%M:%S%.f").to_string())
    })
}

fn ts_json<T: ArrowPrimitiveType>(v: i64, utc: bool) -> Value {
    as_datetime::<T>(v).map_or(Value::from(v), |dt| {
        let mut s = dt.format("%Y-%m-%dT%H:%M:%S%.f").to_string();
        if utc {
            s.push('Z');
        }
        Value::String(s)
    })
}

fn list_json<O: OffsetSizeTrait>(
    l: &GenericListArray<O>,
    binary: BinaryMode,
) -> std::result::Result<Vec<Value>, ConvError> {
    let mut values = column_to_json(l.values().as_ref(), binary)?;
    let offsets = l.value_offsets();
    Ok((0..l.len())
        .map(|i| {
            if l.is_null(i) {
                return Value::Null;
            }
            let (a, b) = (offsets[i].as_usize(), offsets[i + 1].as_usize());
            Value::Array(values[a..b].iter_mut().map(std::mem::take).collect())
        })
        .collect())
}

fn list_view_json<O: OffsetSizeTrait>(
    l: &GenericListViewArray<O>,
    binary: BinaryMode,
) -> std::result::Result<Vec<Value>, ConvError> {
    // Views may overlap, so values are cloned rather than moved.
    let values = column_to_json(l.values().as_ref(), binary)?;
    let (offsets, sizes) = (l.value_offsets(), l.value_sizes());
    Ok((0..l.len())
        .map(|i| {
            if l.is_null(i) {
                return Value::Null;
            }
            let a = offsets[i].as_usize();
            Value::Array(values[a..a + sizes[i].as_usize()].to_vec())
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Writes `input` plus one JSON-text column, streaming, in lockstep with the pushed rows.
///
/// ```no_run
/// use lede::formats::parquet::io::*;
/// use std::path::Path;
/// let mut out = ParquetOutput::create(Path::new("in.parquet"), Path::new("out.parquet.tmp"), "lede")?;
/// out.push(0, &serde_json::json!({"language": "en"}))?;
/// out.push(2, &serde_json::json!({"language": "de"}))?; // row 1 is dropped
/// out.finish()?; // then rename out.parquet.tmp -> out.parquet
/// # Ok::<(), ParquetIoError>(())
/// ```
///
/// * Every input column keeps its Arrow arrays, type and field metadata; the schema metadata
///   (pandas' `pandas` key, …) is kept; Spark's schema copy gets the new column added.
/// * If the input already has a column named `column` (lede run on its own output), that
///   column is replaced in place by the new one.
/// * The new column is plain `Utf8` (Parquet STRING), nullable, compact JSON text per row;
///   `push(i, &Value::Null)` keeps row `i` with a SQL NULL there.
/// * Rows never pushed are dropped. Output row groups follow the input's (minus dropped rows),
///   split further at [`MAX_OUTPUT_ROW_GROUP_BYTES`], which bounds the writer's memory.
/// * Compression: the codec of the input's first column chunk (LZ4 as LZ4_RAW, brotli and
///   LZO as zstd), so the output is about the input's size plus the new column.
/// * If [`finish`](Self::finish) is not reached (error, Ctrl-C), `output_tmp` has no footer and
///   is not a valid Parquet file: the caller deletes it; renaming is the caller's job too.
pub struct ParquetOutput {
    input: PathBuf,
    output: PathBuf,
    file: File,
    meta: ArrowReaderMetadata,
    row_group_starts: Vec<u64>,
    total_rows: u64,
    out_schema: SchemaRef,
    /// Position of the new column in the output (== number of input columns when appended).
    new_col: usize,
    replace: bool,
    writer: ArrowWriter<File>,
    /// Current input row group and its reader.
    row_group: Option<usize>,
    reader: Option<ParquetRecordBatchReader>,
    batch: Option<RecordBatch>,
    batch_start: u64,
    keep: Vec<bool>,
    kept: usize,
    values: StringBuilder,
    text: Vec<u8>,
    /// Smallest row index the next push may use.
    next_min: u64,
    rows_written: u64,
    batch_size: usize,
}

impl ParquetOutput {
    /// Like [`create_with`](Self::create_with) with [`DEFAULT_BATCH_SIZE`] rows per re-read
    /// batch.
    pub fn create(input: &Path, output_tmp: &Path, column: &str) -> Result<Self> {
        Self::create_with(input, output_tmp, column, DEFAULT_BATCH_SIZE)
    }

    /// Opens `input` (reading its footer), builds the output schema with the new `column`,
    /// and creates (truncating) `output_tmp` for writing. `batch_size` is the number of rows
    /// per record batch when re-reading `input` (0 is treated as 1).
    pub fn create_with(
        input: &Path,
        output_tmp: &Path,
        column: &str,
        batch_size: usize,
    ) -> Result<Self> {
        let (file, meta) = open_parquet(input)?;
        let in_schema = meta.schema().clone();
        // Plain Utf8, deliberately without the `arrow.json` extension tag: with the tag pandas
        // gets `object` instead of `str` and Polars' `.str.json_decode()` refuses the column.
        let new_field = Arc::new(Field::new(column, DataType::Utf8, true));
        let mut fields: Vec<Arc<Field>> = in_schema.fields().iter().cloned().collect();
        let (new_col, replace) = match fields.iter().position(|f| f.name() == column) {
            Some(i) => {
                fields[i] = new_field;
                (i, true)
            }
            None => {
                fields.push(new_field);
                (fields.len() - 1, false)
            }
        };
        let mut metadata = in_schema.metadata().clone();
        if let Some(spark) = metadata.remove(SPARK_ROW_METADATA) {
            if let Some(updated) = spark_schema_with_column(&spark, column) {
                metadata.insert(SPARK_ROW_METADATA.to_string(), updated);
            }
        }
        let out_schema = Arc::new(Schema::new_with_metadata(fields, metadata));

        let codec = meta
            .metadata()
            .row_groups()
            .first()
            .and_then(|rg| rg.columns().first())
            .map(|c| c.compression())
            .unwrap_or(Compression::SNAPPY);
        let codec = match codec {
            Compression::LZ4 => Compression::LZ4_RAW,
            Compression::LZO | Compression::BROTLI(_) => Compression::ZSTD(ZstdLevel::default()),
            c => c,
        };
        // Schema metadata also goes into the footer's key-value metadata, where Spark and
        // pandas read it (ArrowWriter itself only embeds it in ARROW:schema).
        let mut kv: Vec<KeyValue> = out_schema
            .metadata()
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
            .collect();
        kv.sort_by(|a, b| a.key.cmp(&b.key));
        let props = WriterProperties::builder()
            .set_key_value_metadata(Some(kv))
            .set_compression(codec)
            .set_max_row_group_bytes(Some(MAX_OUTPUT_ROW_GROUP_BYTES))
            .build();
        let out_file = File::create(output_tmp).map_err(io_err(output_tmp))?;
        let writer = ArrowWriter::try_new(out_file, out_schema.clone(), Some(props))
            .map_err(|e| corrupt(output_tmp, e))?;
        let row_group_starts = row_group_starts(&meta);
        let total_rows = meta.metadata().file_metadata().num_rows().max(0) as u64;
        Ok(Self {
            input: input.to_path_buf(),
            output: output_tmp.to_path_buf(),
            file,
            meta,
            row_group_starts,
            total_rows,
            out_schema,
            new_col,
            replace,
            writer,
            row_group: None,
            reader: None,
            batch: None,
            batch_start: 0,
            keep: Vec::new(),
            kept: 0,
            values: StringBuilder::new(),
            text: Vec::new(),
            next_min: 0,
            rows_written: 0,
            batch_size: batch_size.max(1),
        })
    }

    /// The output schema (input columns plus the new one).
    pub fn schema(&self) -> &SchemaRef {
        &self.out_schema
    }

    /// Rows written so far (excluding the current, unfinished batch).
    pub fn rows_written(&self) -> u64 {
        self.rows_written
    }

    /// Sets row `row_index`'s value of the new column; row indices must strictly increase.
    /// `Value::Null` writes a SQL NULL; anything else is written as compact JSON text.
    pub fn push(&mut self, row_index: u64, value: &Value) -> Result<()> {
        if row_index < self.next_min || row_index >= self.total_rows {
            return Err(ParquetIoError::Usage {
                path: self.input.clone(),
                message: if row_index >= self.total_rows {
                    format!(
                        "row {row_index} pushed, but the file has {} rows",
                        self.total_rows
                    )
                } else {
                    format!(
                        "row {row_index} pushed after row {}; rows must increase",
                        self.next_min - 1
                    )
                },
            });
        }
        self.seek_to(row_index)?;
        let offset = (row_index - self.batch_start) as usize;
        // Rows between the last pushed one and this one (in this batch) stay unkept: their
        // value slot is never appended, so the builder holds exactly the kept rows.
        self.keep[offset] = true;
        self.kept += 1;
        if value.is_null() {
            self.values.append_null();
        } else {
            self.text.clear();
            serde_json::to_writer(&mut self.text, value).map_err(|e| ParquetIoError::Usage {
                path: self.input.clone(),
                message: format!("row {row_index}: value not serializable: {e}"),
            })?;
            // serde_json writes valid UTF-8.
            self.values
                .append_value(std::str::from_utf8(&self.text).expect("serde_json output is UTF-8"));
        }
        self.next_min = row_index + 1;
        Ok(())
    }

    /// Writes what is pending, the footer, and fsyncs `output_tmp`. Rows after the last pushed
    /// one are dropped.
    pub fn finish(mut self) -> Result<()> {
        self.write_batch()?;
        self.writer.finish().map_err(|e| corrupt(&self.output, e))?;
        self.writer
            .inner()
            .sync_all()
            .map_err(io_err(&self.output))?;
        Ok(())
    }

    /// Makes the current batch the one containing `row`, writing finished batches and closing
    /// output row groups at input row-group boundaries; row groups without pushed rows are
    /// skipped without being decoded.
    fn seek_to(&mut self, row: u64) -> Result<()> {
        loop {
            if let Some(batch) = &self.batch {
                if row < self.batch_start + batch.num_rows() as u64 {
                    return Ok(());
                }
                let next_start = self.batch_start + batch.num_rows() as u64;
                self.write_batch()?;
                self.batch_start = next_start;
            }
            // Next batch of the current row group, if `row` is in it.
            let rg = self.row_group_starts.partition_point(|&s| s <= row) - 1;
            if self.row_group != Some(rg) {
                self.writer.flush().map_err(|e| corrupt(&self.output, e))?;
                self.reader = Some(row_group_reader(
                    &self.input,
                    &self.file,
                    &self.meta,
                    rg,
                    self.batch_size,
                    ProjectionMask::all(),
                )?);
                self.row_group = Some(rg);
                self.batch_start = self.row_group_starts[rg];
            }
            let reader = self.reader.as_mut().expect("reader set above");
            match reader.next() {
                Some(Ok(batch)) => {
                    self.keep.clear();
                    self.keep.resize(batch.num_rows(), false);
                    self.kept = 0;
                    self.batch = Some(batch);
                }
                Some(Err(e)) => {
                    return Err(corrupt(&self.input, format_args!("row group {rg}: {e}")))
                }
                None => {
                    return Err(corrupt(
                        &self.input,
                        format_args!("row group {rg} ended before its footer's row count"),
                    ))
                }
            }
        }
    }

    fn write_batch(&mut self) -> Result<()> {
        let Some(batch) = self.batch.take() else {
            return Ok(());
        };
        if self.kept == 0 {
            return Ok(());
        }
        let batch = if self.kept == batch.num_rows() {
            batch
        } else {
            let mask = BooleanArray::from(std::mem::take(&mut self.keep));
            filter_record_batch(&batch, &mask).map_err(|e| corrupt(&self.input, e))?
        };
        let new: ArrayRef = Arc::new(self.values.finish());
        let mut columns = batch.columns().to_vec();
        if self.replace {
            columns[self.new_col] = new;
        } else {
            columns.push(new);
        }
        let out = RecordBatch::try_new(self.out_schema.clone(), columns)
            .map_err(|e| corrupt(&self.output, e))?;
        self.writer
            .write(&out)
            .map_err(|e| corrupt(&self.output, e))?;
        self.rows_written += out.num_rows() as u64;
        self.kept = 0;
        Ok(())
    }
}

/// Adds `{"name": column, "type": "string", "nullable": true}` to Spark's schema JSON
/// (replacing a field of that name), or returns `None` if it is not what we expect.
fn spark_schema_with_column(spark: &str, column: &str) -> Option<String> {
    let mut schema: Value = serde_json::from_str(spark).ok()?;
    let fields = schema.get_mut("fields")?.as_array_mut()?;
    let field =
        serde_json::json!({"name": column, "type": "string", "nullable": true, "metadata": {}});
    match fields
        .iter()
        .position(|f| f.get("name").and_then(Value::as_str) == Some(column))
    {
        Some(i) => fields[i] = field,
        None => fields.push(field),
    }
    serde_json::to_string(&schema).ok()
}

#[cfg(test)]
mod tests;
