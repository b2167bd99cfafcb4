//! Reading typed values out of query results, whatever physical string type
//! DataFusion chose (Utf8, Utf8View, dictionaries) — cast first, then read.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};

use crate::error::{Error, Result};

fn column_as(batch: &RecordBatch, name: &str, ty: &DataType) -> Result<ArrayRef> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| Error::encode("result", format!("column `{name}` missing")))?;
    cast(column, ty).map_err(|e| Error::encode(format!("result column `{name}`"), e))
}

/// A text column as `Utf8` (read it with `as_string::<i32>()`): for loops over
/// millions of rows that must not allocate a `String` per value.
pub fn text_array(batch: &RecordBatch, name: &str) -> Result<ArrayRef> {
    column_as(batch, name, &DataType::Utf8)
}

/// A list-of-text column as `List<Utf8>` (read it with `as_list::<i32>()`).
pub fn text_list_array(batch: &RecordBatch, name: &str) -> Result<ArrayRef> {
    let item = std::sync::Arc::new(datafusion::arrow::datatypes::Field::new(
        "item",
        DataType::Utf8,
        true,
    ));
    column_as(batch, name, &DataType::List(item))
}

/// Text column values.
pub fn strings(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>> {
    let array = text_array(batch, name)?;
    Ok(array
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// Timestamp column values as µs since the epoch.
pub fn timestamps(batch: &RecordBatch, name: &str) -> Result<Vec<Option<i64>>> {
    let ty = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let array = column_as(batch, name, &ty)?;
    Ok(array
        .as_primitive::<TimestampMicrosecondType>()
        .iter()
        .collect())
}

/// Float column values (integers widen).
pub fn floats(batch: &RecordBatch, name: &str) -> Result<Vec<Option<f64>>> {
    let array = column_as(batch, name, &DataType::Float64)?;
    Ok(array.as_primitive::<Float64Type>().iter().collect())
}

/// Integer column values.
pub fn ints(batch: &RecordBatch, name: &str) -> Result<Vec<Option<i64>>> {
    let array = column_as(batch, name, &DataType::Int64)?;
    Ok(array.as_primitive::<Int64Type>().iter().collect())
}

/// List-of-text column values (null lists become empty).
pub fn string_lists(batch: &RecordBatch, name: &str) -> Result<Vec<Vec<String>>> {
    let array = text_list_array(batch, name)?;
    let list = array.as_list::<i32>();
    Ok((0..list.len())
        .map(|i| {
            if list.is_null(i) {
                return Vec::new();
            }
            let values = list.value(i);
            values
                .as_string::<i32>()
                .iter()
                .flatten()
                .map(str::to_string)
                .collect()
        })
        .collect())
}
