//! JSON output: record batches → rows with stable types, and atomic file writes.
//!
//! Rows: integers and floats as numbers
//! (non-finite floats as null), booleans as booleans, everything else (text, dates,
//! timestamps, lists) as its display text.

use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Value as Json};

use crate::error::{Error, Result};

/// One JSON object per row, keys in column order.
pub fn rows(batches: &[RecordBatch]) -> Result<Vec<Map<String, Json>>> {
    let mut out = Vec::new();
    for batch in batches {
        let columns = batch
            .columns()
            .iter()
            .map(|c| column_values(c.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        let names: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        for row in 0..batch.num_rows() {
            let object: Map<String, Json> = names
                .iter()
                .zip(&columns)
                .map(|(name, values)| (name.clone(), values[row].clone()))
                .collect();
            out.push(object);
        }
    }
    Ok(out)
}

fn column_values(array: &dyn Array) -> Result<Vec<Json>> {
    let err = |e| Error::encode("json", e);
    let values = match array.data_type() {
        t if t.is_integer() => {
            let cast = cast(array, &DataType::Int64).map_err(err)?;
            cast.as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map_or(Json::Null, Json::from))
                .collect()
        }
        t if t.is_floating()
            || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)) =>
        {
            let cast = cast(array, &DataType::Float64).map_err(err)?;
            cast.as_primitive::<Float64Type>()
                .iter()
                .map(|v| {
                    v.and_then(serde_json::Number::from_f64)
                        .map_or(Json::Null, Json::Number)
                })
                .collect()
        }
        DataType::Boolean => array
            .as_boolean()
            .iter()
            .map(|v| v.map_or(Json::Null, Json::Bool))
            .collect(),
        _ => {
            let options = FormatOptions::default();
            let formatter = ArrayFormatter::try_new(array, &options).map_err(err)?;
            (0..array.len())
                .map(|i| {
                    if array.is_null(i) {
                        Json::Null
                    } else {
                        Json::String(formatter.value(i).to_string())
                    }
                })
                .collect()
        }
    };
    Ok(values)
}

/// Writes JSON atomically (see [`crate::atomic_file`]): a reader never sees half a
/// file.
pub fn write_atomically(path: &Path, doc: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_vec_pretty(doc).map_err(|e| Error::encode("json", e))?;
    crate::atomic_file::write(path, &text)
}

/// The day of a computed section's `as_of` (RFC 3339), and its UTC midnight in
/// microseconds: the date key under which a compute's results are stored, so that
/// computing again the same day replaces them.
pub fn as_of_day(section: &Json) -> Option<(chrono::NaiveDate, i64)> {
    let as_of = chrono::DateTime::parse_from_rfc3339(section["as_of"].as_str()?).ok()?;
    let day = as_of.date_naive();
    let midnight = day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros();
    Some((day, midnight))
}
