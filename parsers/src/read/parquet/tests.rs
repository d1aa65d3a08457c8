use std::io::Read;
use std::sync::Arc;

use parquet::basic::{Compression, GzipLevel};
use parquet::column::writer::{ColumnWriter, ColumnWriterImpl};
use parquet::data_type::DataType;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use super::*;
use crate::read::{FlowLogFile, ReadError, SourceKind};

/// One column's values in a test file (`None` is a null).
enum Col {
    I32(Vec<Option<i32>>),
    I64(Vec<Option<i64>>),
    Text(Vec<Option<&'static str>>),
    F64(Vec<Option<f64>>),
}

/// Writes `values` to a column, with definition levels where the column is optional.
fn write<T: DataType>(w: &mut ColumnWriterImpl<'_, T>, values: Vec<Option<T::T>>) {
    let dense: Vec<T::T> = values.iter().flatten().cloned().collect();
    let defs: Vec<i16> = values.iter().map(|v| i16::from(v.is_some())).collect();
    let nullable = w.get_descriptor().max_def_level() > 0;
    w.write_batch(&dense, nullable.then_some(defs.as_slice()), None)
        .unwrap();
}

/// A Gzip-compressed Parquet file of `schema` (Parquet's message syntax), one row group per
/// entry of `groups`, each with the columns in the schema's order.
fn parquet_file(schema: &str, groups: Vec<Vec<Col>>) -> Vec<u8> {
    let schema = Arc::new(parse_message_type(schema).unwrap());
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::GZIP(GzipLevel::default()))
            .build(),
    );
    let mut writer = SerializedFileWriter::new(Vec::new(), schema, props).unwrap();
    for group in groups {
        let mut rows = writer.next_row_group().unwrap();
        for col in group {
            let mut column = rows.next_column().unwrap().unwrap();
            match (column.untyped(), col) {
                (ColumnWriter::Int32ColumnWriter(w), Col::I32(v)) => write(w, v),
                (ColumnWriter::Int64ColumnWriter(w), Col::I64(v)) => write(w, v),
                (ColumnWriter::ByteArrayColumnWriter(w), Col::Text(v)) => {
                    write(w, v.into_iter().map(|t| t.map(ByteArray::from)).collect())
                }
                (ColumnWriter::DoubleColumnWriter(w), Col::F64(v)) => write(w, v),
                _ => panic!("the test's column does not match its schema"),
            }
            column.close().unwrap();
        }
        rows.close().unwrap();
    }
    writer.into_inner().unwrap()
}

const SCHEMA: &str = "message flows {
    required int32 version;
    optional binary srcaddr (UTF8);
    optional int64 bytes;
    optional binary pkt_dst_aws_service (UTF8);
}";

/// Two row groups: the second has nulls and an empty text value.
fn sample() -> Vec<u8> {
    parquet_file(
        SCHEMA,
        vec![
            vec![
                Col::I32(vec![Some(5), Some(5)]),
                Col::Text(vec![Some("10.0.0.1"), Some("10.0.0.2")]),
                Col::I64(vec![Some(100), Some(200)]),
                Col::Text(vec![Some("S3"), None]),
            ],
            vec![
                Col::I32(vec![Some(5)]),
                Col::Text(vec![None]),
                Col::I64(vec![None]),
                Col::Text(vec![Some("")]),
            ],
        ],
    )
}

fn text_of(data: Vec<u8>, format: Option<&LogFormat>) -> Result<String, String> {
    let mut text = ParquetText::from_bytes(data, format).map_err(|e| e.to_string())?;
    let mut out = String::new();
    text.read_to_string(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

#[test]
fn rows_become_lines_of_the_files_columns_with_a_dash_for_no_value() {
    let data = sample();
    assert!(is_parquet(&data));
    let text = ParquetText::from_bytes(data.clone(), None).unwrap();
    assert_eq!(
        text.format().header_line(),
        "version srcaddr bytes pkt-dst-aws-service"
    );
    assert_eq!(
        text_of(data, None).unwrap(),
        "5 10.0.0.1 100 S3\n5 10.0.0.2 200 -\n5 - - -\n"
    );
}

#[test]
fn a_recordings_format_orders_the_values_and_a_field_without_a_column_is_named() {
    let format = LogFormat::parse("${bytes} ${pkt-dst-aws-service} ${srcaddr}").unwrap();
    assert_eq!(
        text_of(sample(), Some(&format)).unwrap(),
        "100 S3 10.0.0.1\n200 - 10.0.0.2\n- - -\n"
    );
    let format = LogFormat::parse("${srcaddr} ${dstaddr}").unwrap();
    let err = text_of(sample(), Some(&format)).unwrap_err();
    assert!(err.contains("no column `dstaddr`"), "{err}");
    assert!(err.contains("${dstaddr}"), "{err}");
    assert!(
        err.contains("version, srcaddr, bytes, pkt_dst_aws_service"),
        "{err}"
    );
}

#[test]
fn a_column_of_another_type_is_refused_with_what_was_expected() {
    let bytes_as_text = parquet_file(
        "message m { optional binary srcaddr (UTF8); optional binary bytes (UTF8); }",
        vec![vec![
            Col::Text(vec![Some("10.0.0.1")]),
            Col::Text(vec![Some("100")]),
        ]],
    );
    let err = text_of(bytes_as_text, None).unwrap_err();
    assert!(
        err.starts_with("column `bytes`: holds BYTE_ARRAY values"),
        "{err}"
    );
    assert!(err.contains("expected integers (INT32 or INT64)"), "{err}");

    let address_as_number = parquet_file(
        "message m { optional int64 srcaddr; }",
        vec![vec![Col::I64(vec![Some(1)])]],
    );
    let err = text_of(address_as_number, None).unwrap_err();
    assert!(err.contains("column `srcaddr`"), "{err}");
    assert!(err.contains("expected text (BYTE_ARRAY strings)"), "{err}");

    let unknown_double = parquet_file(
        "message m { optional double future_field; }",
        vec![vec![Col::F64(vec![Some(1.5)])]],
    );
    let err = text_of(unknown_double, None).unwrap_err();
    assert!(
        err.contains("column `future_field`: holds DOUBLE values"),
        "{err}"
    );
}

#[test]
fn many_rows_cross_batches_and_row_groups_in_order() {
    let n = BATCH_ROWS + 7;
    let group = |base: i64| {
        vec![
            Col::I32(vec![Some(2); n]),
            Col::Text(vec![Some("10.0.0.1"); n]),
            Col::I64((0..n as i64).map(|i| Some(base + i)).collect()),
            Col::Text(vec![None; n]),
        ]
    };
    let out = text_of(parquet_file(SCHEMA, vec![group(0), group(1_000_000)]), None).unwrap();
    let bytes: Vec<i64> = out
        .lines()
        .map(|l| l.split(' ').nth(2).unwrap().parse().unwrap())
        .collect();
    let expected: Vec<i64> = (0..n as i64)
        .chain(1_000_000..1_000_000 + n as i64)
        .collect();
    assert_eq!(bytes, expected);
}

#[test]
fn a_truncated_or_damaged_file_is_an_error_not_a_crash() {
    let data = sample();
    let err = text_of(data.get(..data.len() / 2).unwrap().to_vec(), None).unwrap_err();
    assert!(err.contains("the file is corrupt or truncated"), "{err}");
    // Every byte changed in turn: the reader returns lines or an error, and does not panic.
    for at in 0..data.len() {
        for value in [0x00, 0xff, data[at] ^ 0x01] {
            let mut damaged = data.clone();
            damaged[at] = value;
            let _ = text_of(damaged, None);
        }
    }
}

#[test]
fn a_parquet_file_opens_by_its_magic_bytes_as_records_of_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flows.bin");
    std::fs::write(&path, sample()).unwrap();
    let default = LogFormat::default();
    let from_disk = FlowLogFile::open(&path, &default).unwrap();
    let in_memory =
        FlowLogFile::from_reader("flows".into(), std::io::Cursor::new(sample()), &default).unwrap();
    for mut file in [from_disk, in_memory] {
        assert_eq!(file.kind(), SourceKind::Parquet);
        assert_eq!(file.format().len(), 4);
        let mut bytes = Vec::new();
        file.for_each_record(|r| bytes.push(r.unwrap().bytes))
            .unwrap();
        assert_eq!(bytes, [Some(100), Some(200), None]);
    }

    let mut damaged = sample();
    let len = damaged.len();
    damaged.truncate(len - 12);
    damaged.extend_from_slice(b"xxxxxxxxPAR1");
    std::fs::write(&path, damaged).unwrap();
    let err = FlowLogFile::open(&path, &default).unwrap_err();
    assert!(matches!(err, ReadError::Parquet { .. }), "{err:?}");
    assert!(err.to_string().contains("flows.bin"), "{err}");
}
