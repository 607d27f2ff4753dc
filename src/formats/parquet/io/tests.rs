//! Unit tests of the Parquet reader and writer.
use super::*;
use arrow_array::builder::{Int32Builder, ListBuilder, MapBuilder, StringBuilder as SB};
use arrow_array::types::Int32Type as I32;
use arrow_array::{
    BinaryArray, Date32Array, Decimal128Array, DictionaryArray, Float32Array, Int64Array,
    StringArray, StructArray, TimestampMicrosecondArray, TimestampMillisecondArray,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder as B;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

const N: usize = 10;

fn tmp(name: &str) -> PathBuf {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "parquet_io_test_{}_{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn sample_batch() -> RecordBatch {
    let n = N as i64;
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(0..n));
    let text: ArrayRef = Arc::new(StringArray::from_iter((0..N).map(|i| {
        if i == 3 {
            None
        } else {
            Some(format!("text {i} é"))
        }
    })));
    let mut tags = ListBuilder::new(SB::new());
    for i in 0..N {
        if i == 2 {
            tags.append_null();
        } else {
            for j in 0..i % 3 {
                tags.values().append_value(format!("t{j}"));
            }
            tags.append(true);
        }
    }
    let tags: ArrayRef = Arc::new(tags.finish());
    let cat: ArrayRef = Arc::new(
        (0..N)
            .map(|i| {
                if i == 5 {
                    None
                } else {
                    Some(["news", "sport"][i % 2])
                }
            })
            .collect::<DictionaryArray<I32>>(),
    );
    let ts: ArrayRef = Arc::new(
        TimestampMillisecondArray::from_iter_values((0..n).map(|i| 1_700_000_000_000 + i * 1001))
            .with_timezone("Europe/Berlin"),
    );
    let naive: ArrayRef = Arc::new(TimestampMicrosecondArray::from_iter_values(
        (0..n).map(|i| i * 1_000_000 + i),
    ));
    let day: ArrayRef = Arc::new(Date32Array::from_iter_values(
        (0..n as i32).map(|i| 19_000 + i),
    ));
    let dec: ArrayRef = Arc::new(
        Decimal128Array::from_iter((0..n).map(|i| {
            if i == 1 {
                None
            } else {
                Some(i as i128 * 1005 - 3000)
            }
        }))
        .with_precision_and_scale(10, 2)
        .unwrap(),
    );
    let bin: ArrayRef = Arc::new(BinaryArray::from_iter_values(
        (0..N).map(|i| vec![i as u8, 0xff]),
    ));
    let f32s: ArrayRef = Arc::new(Float32Array::from_iter((0..N).map(|i| {
        if i == 4 {
            Some(f32::NAN)
        } else {
            Some(i as f32 / 10.0)
        }
    })));
    let author: ArrayRef = Arc::new(StructArray::from(vec![
        (
            Arc::new(Field::new("name", DataType::Utf8, true)),
            Arc::new(StringArray::from_iter_values(
                (0..N).map(|i| format!("a{i}")),
            )) as ArrayRef,
        ),
        (
            Arc::new(Field::new("age", DataType::Int64, true)),
            Arc::new(Int64Array::from_iter(
                (0..n).map(|i| (i % 2 == 0).then_some(i)),
            )),
        ),
    ]));
    let mut attrs = MapBuilder::new(None, SB::new(), Int32Builder::new());
    for i in 0..N {
        attrs.keys().append_value("k");
        attrs.values().append_value(i as i32);
        attrs.append(i != 6).unwrap();
    }
    let attrs: ArrayRef = Arc::new(attrs.finish());
    RecordBatch::try_from_iter(vec![
        ("id", id),
        ("text", text),
        ("tags", tags),
        ("cat", cat),
        ("ts", ts),
        ("naive", naive),
        ("day", day),
        ("dec", dec),
        ("bin", bin),
        ("f32", f32s),
        ("author", author),
        ("attrs", attrs),
    ])
    .unwrap()
}

/// N rows in row groups of 4 (4, 4, 2), snappy, with schema metadata.
fn sample_file() -> PathBuf {
    let path = tmp("in.parquet");
    let batch = sample_batch();
    let schema = Arc::new(
        batch
            .schema()
            .as_ref()
            .clone()
            .with_metadata(HashMap::from([("origin".into(), "test".into())])),
    );
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(4))
        .set_compression(Compression::SNAPPY)
        .build();
    let mut w =
        ArrowWriter::try_new(File::create(&path).unwrap(), schema.clone(), Some(props)).unwrap();
    w.write(&RecordBatch::try_new(schema, batch.columns().to_vec()).unwrap())
        .unwrap();
    w.close().unwrap();
    path
}

fn read_all(path: &Path) -> RecordBatch {
    let r = B::try_new(File::open(path).unwrap()).unwrap();
    let schema = r.schema().clone();
    let batches: Vec<RecordBatch> = r.build().unwrap().map(|b| b.unwrap()).collect();
    arrow_select::concat::concat_batches(&schema, &batches).unwrap()
}

#[test]
fn rows_as_json() {
    let path = sample_file();
    let rows: Vec<Row> = ParquetRows::open(&path)
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(rows.len(), N);
    assert_eq!(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        (0..N as u64).collect::<Vec<_>>()
    );
    assert_eq!(
        Value::Object(rows[1].1.clone()),
        json!({"id": 1, "text": "text 1 é", "tags": ["t0"], "cat": "sport",
               "ts": "2023-11-14T22:13:21.001Z", "naive": "1970-01-01T00:00:01.000001",
               "day": "2022-01-09", "dec": null, "bin": "Af8=", "f32": 0.1,
               "author": {"name": "a1", "age": null}, "attrs": {"k": 1}})
    );
    let r = &rows[2].1;
    assert_eq!(r["tags"], Value::Null);
    assert_eq!(r["dec"], json!("-9.90"));
    assert_eq!(r["ts"], json!("2023-11-14T22:13:22.002Z"));
    assert_eq!(rows[3].1["text"], Value::Null);
    assert_eq!(rows[4].1["f32"], Value::Null); // NaN
    assert_eq!(rows[5].1["cat"], Value::Null);
    assert_eq!(rows[6].1["attrs"], Value::Null);
    assert_eq!(rows[0].1["ts"], json!("2023-11-14T22:13:20Z"));
    // key order is column order
    let keys: Vec<&String> = rows[0].1.keys().collect();
    assert_eq!(
        keys,
        [
            "id", "text", "tags", "cat", "ts", "naive", "day", "dec", "bin", "f32", "author",
            "attrs"
        ]
    );
}

#[test]
fn batch_size_and_row_groups_do_not_change_rows() {
    let path = sample_file();
    let all: Vec<Row> = ParquetRows::open(&path)
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    for bs in [1, 3, 4, 7] {
        let opts = ReadOptions {
            batch_size: bs,
            ..Default::default()
        };
        let got: Vec<Row> = ParquetRows::open_with(&path, opts)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(got, all, "batch_size {bs}");
    }
    let rows = ParquetRows::open(&path).unwrap();
    assert_eq!((rows.num_rows(), rows.num_row_groups()), (N as u64, 3));
}

#[test]
fn projection_columns_and_binary_mode() {
    let path = sample_file();
    let opts = ReadOptions {
        columns: Some(vec!["bin".into(), "id".into()]),
        binary: BinaryMode::Utf8Lossy,
        ..Default::default()
    };
    let (i, row) = ParquetRows::open_with(&path, opts)
        .unwrap()
        .nth(65 % N)
        .unwrap()
        .unwrap();
    assert_eq!(i, 5);
    assert_eq!(Value::Object(row), json!({"id": 5, "bin": "\u{5}\u{fffd}"}));
    let err = ParquetRows::open_with(
        &path,
        ReadOptions {
            columns: Some(vec!["body".into()]),
            ..Default::default()
        },
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.ends_with("no column \"body\"; it has: id, text, tags, cat, ts, naive, day, dec, bin, f32, author, attrs"), "{err}");
    assert_eq!(
        parquet_columns(&path).unwrap().join(","),
        "id,text,tags,cat,ts,naive,day,dec,bin,f32,author,attrs"
    );
}

#[test]
fn clear_errors_for_bad_files() {
    let p = tmp("x.parquet");
    std::fs::write(&p, b"{\"text\": \"json, not parquet\"}\n").unwrap();
    let e = ParquetRows::open(&p).err().unwrap();
    assert!(matches!(e, ParquetIoError::NotParquet { .. }), "{e}");
    assert!(
        e.to_string().contains("x.parquet: not a Parquet file"),
        "{e}"
    );
    std::fs::write(&p, b"").unwrap();
    assert!(matches!(
        ParquetRows::open(&p).err().unwrap(),
        ParquetIoError::NotParquet { .. }
    ));

    let good = std::fs::read(sample_file()).unwrap();
    std::fs::write(&p, &good[..good.len() / 2]).unwrap();
    let e = ParquetRows::open(&p).err().unwrap();
    assert!(matches!(e, ParquetIoError::Truncated { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("truncated or incomplete Parquet file"),
        "{e}"
    );
    // footer magic present but footer garbage
    let mut bad = good.clone();
    let len = bad.len();
    bad[len - 8..len - 4].copy_from_slice(&(1_000_000u32).to_le_bytes());
    std::fs::write(&p, &bad).unwrap();
    assert!(matches!(
        ParquetRows::open(&p).err().unwrap(),
        ParquetIoError::Truncated { .. }
    ));
    // a corrupt data page: error while iterating, naming the file and row group
    let mut bad = good.clone();
    for b in &mut bad[8..200] {
        *b = 0x5a;
    }
    std::fs::write(&p, &bad).unwrap();
    let res: Result<Vec<Row>> = ParquetRows::open(&p).unwrap().collect();
    let e = res.err().unwrap().to_string();
    assert!(
        e.contains("x.parquet: cannot read Parquet data: row group 0"),
        "{e}"
    );

    let e = ParquetRows::open(Path::new("/no/such.parquet"))
        .err()
        .unwrap();
    assert!(
        matches!(e, ParquetIoError::Io { .. }) && e.to_string().starts_with("/no/such.parquet: "),
        "{e}"
    );
}

fn check_output(input: &Path, output: &Path, kept: &[usize], column: &str) {
    let inp = read_all(input);
    let out = read_all(output);
    assert_eq!(out.num_rows(), kept.len());
    let idx = arrow_array::UInt64Array::from_iter_values(kept.iter().map(|&i| i as u64));
    for (f, col) in inp.schema().fields().iter().zip(inp.columns()) {
        if f.name() == column {
            continue;
        }
        let want = arrow_select::take::take(col.as_ref(), &idx, None).unwrap();
        let got = out.column_by_name(f.name()).unwrap();
        assert_eq!(got.data_type(), f.data_type(), "{}", f.name());
        // compare via JSON (NaN-safe; a dictionary may be re-encoded)
        assert_eq!(
            column_to_json(got.as_ref(), BinaryMode::Base64).unwrap(),
            column_to_json(want.as_ref(), BinaryMode::Base64).unwrap(),
            "{}",
            f.name()
        );
        assert_eq!(out.schema().field_with_name(f.name()).unwrap(), f.as_ref());
    }
    assert_eq!(
        out.schema().metadata().get("origin").map(String::as_str),
        Some("test")
    );
    let new = out
        .column_by_name(column)
        .unwrap()
        .as_string::<i32>()
        .clone();
    for (k, &i) in kept.iter().enumerate() {
        if i == 8 {
            assert!(new.is_null(k));
        } else {
            let v: Value = serde_json::from_str(new.value(k)).unwrap();
            assert_eq!(v, json!({"row": i, "x": 0.1}));
        }
    }
}

fn enrich(input: &Path, kept: &[usize], column: &str) -> PathBuf {
    let output = tmp("out.parquet");
    let mut out = ParquetOutput::create_with(input, &output, column, 3).unwrap();
    for &i in kept {
        let v = if i == 8 {
            Value::Null
        } else {
            json!({"row": i, "x": 0.1})
        };
        out.push(i as u64, &v).unwrap();
    }
    out.finish().unwrap();
    output
}

#[test]
fn output_all_rows() {
    let input = sample_file();
    let kept: Vec<usize> = (0..N).collect();
    let output = enrich(&input, &kept, "lede");
    check_output(&input, &output, &kept, "lede");
    let out = read_all(&output);
    assert_eq!(out.schema().fields().last().unwrap().name(), "lede");
    assert_eq!(out.num_columns(), sample_batch().num_columns() + 1);
    // output row groups follow the input's
    let md = B::try_new(File::open(&output).unwrap())
        .unwrap()
        .metadata()
        .clone();
    let sizes: Vec<i64> = md.row_groups().iter().map(|rg| rg.num_rows()).collect();
    assert_eq!(sizes, [4, 4, 2]);
    assert_eq!(md.row_group(0).column(0).compression(), Compression::SNAPPY);
}

#[test]
fn output_subset_drops_other_rows() {
    let input = sample_file();
    for kept in [vec![1, 2, 8, 9], vec![9], vec![0, 4, 5, 6, 7], vec![]] {
        let output = enrich(&input, &kept, "lede");
        check_output(&input, &output, &kept, "lede");
    }
}

#[test]
fn output_replaces_existing_column_in_place() {
    let input = sample_file();
    let kept = [0, 3, 8];
    let output = enrich(&input, &kept, "text");
    check_output(&input, &output, &kept, "text");
    let out = read_all(&output);
    assert_eq!(out.schema().field(1).name(), "text");
    assert_eq!(out.num_columns(), sample_batch().num_columns());
}

#[test]
fn push_contract() {
    let input = sample_file();
    let mut out = ParquetOutput::create(&input, &tmp("o.parquet"), "lede").unwrap();
    out.push(3, &json!(1)).unwrap();
    let e = out.push(3, &json!(1)).err().unwrap().to_string();
    assert!(
        e.contains("row 3 pushed after row 3; rows must increase"),
        "{e}"
    );
    assert!(out.push(2, &json!(1)).is_err());
    let e = out.push(N as u64, &json!(1)).err().unwrap().to_string();
    assert!(e.contains("the file has 10 rows"), "{e}");
}

#[test]
fn empty_input() {
    let path = tmp("empty.parquet");
    let batch = sample_batch().slice(0, 0);
    let mut w = ArrowWriter::try_new(File::create(&path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    assert_eq!(ParquetRows::open(&path).unwrap().count(), 0);
    let output = enrich(&path, &[], "lede");
    let r = B::try_new(File::open(&output).unwrap()).unwrap();
    assert_eq!(r.metadata().file_metadata().num_rows(), 0);
    assert_eq!(r.schema().fields().len(), batch.num_columns() + 1);
}

#[test]
fn reader_and_writer_can_move_to_another_thread() {
    fn send<T: Send>() {}
    send::<ParquetRows>();
    send::<ParquetOutput>();
    send::<ParquetIoError>();
}

#[test]
fn spark_schema_copy_gets_the_column() {
    let s = r#"{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}}]}"#;
    let got = spark_schema_with_column(s, "lede").unwrap();
    assert_eq!(
        got,
        r#"{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"lede","type":"string","nullable":true,"metadata":{}}]}"#
    );
    assert_eq!(spark_schema_with_column("nonsense", "lede"), None);
}
