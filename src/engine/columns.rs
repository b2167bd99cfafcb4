//! Reading typed values out of query results, whatever physical string type
//! DataFusion chose (Utf8, Utf8View, dictionaries) — cast first, then read.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};

use crate::error::{Error, Result};

fn column_as(batch: &RecordBatch, name: &str, ty: &DataType) -> Result<std::sync::Arc<dyn Array>> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| Error::encode("result", format!("column `{name}` missing")))?;
    cast(column, ty).map_err(|e| Error::encode(format!("result column `{name}`"), e))
}

/// Text column values.
pub fn strings(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>> {
    let array = column_as(batch, name, &DataType::Utf8)?;
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
    let item = std::sync::Arc::new(datafusion::arrow::datatypes::Field::new(
        "item",
        DataType::Utf8,
        true,
    ));
    let array = column_as(batch, name, &DataType::List(item))?;
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
