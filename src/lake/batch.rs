//! Typed rows → Arrow record batches for a canonical table.
//!
//! Both the importer (after parsing and validating text) and the demo generator
//! hand rows of [`Value`]s to a [`BatchBuilder`]; the lake never sees anything
//! that did not go through a table's spec.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, RecordBatch,
    StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{Field, Schema};

use super::tables::{ColumnType, TableSpec, UTC};
use crate::error::{Error, Result};

/// One typed cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Missing.
    Null,
    /// Text.
    Text(String),
    /// Microseconds since the Unix epoch, UTC.
    Timestamp(i64),
    /// Boolean.
    Bool(bool),
    /// Float.
    Float(f64),
    /// Integer.
    Int(i64),
    /// List of strings.
    TextList(Vec<String>),
}

impl Value {
    /// Text value from anything string-like.
    pub fn text(s: impl Into<String>) -> Self {
        Value::Text(s.into())
    }

    /// Optional text: `None` becomes `Null`.
    pub fn opt_text(s: Option<impl Into<String>>) -> Self {
        s.map_or(Value::Null, |s| Value::Text(s.into()))
    }

    /// Optional timestamp in microseconds.
    pub fn opt_ts(us: Option<i64>) -> Self {
        us.map_or(Value::Null, Value::Timestamp)
    }
}

enum ColumnBuilder {
    Text(StringBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Bool(BooleanBuilder),
    Float(Float64Builder),
    Int(Int64Builder),
    TextList(ListBuilder<StringBuilder>),
}

impl ColumnBuilder {
    fn new(ty: ColumnType) -> Self {
        match ty {
            ColumnType::Text => ColumnBuilder::Text(StringBuilder::new()),
            ColumnType::Timestamp => {
                ColumnBuilder::Timestamp(TimestampMicrosecondBuilder::new().with_timezone(UTC))
            }
            ColumnType::Bool => ColumnBuilder::Bool(BooleanBuilder::new()),
            ColumnType::Float => ColumnBuilder::Float(Float64Builder::new()),
            ColumnType::Int => ColumnBuilder::Int(Int64Builder::new()),
            ColumnType::TextList => ColumnBuilder::TextList(ListBuilder::new(StringBuilder::new())),
        }
    }

    /// Appends a value; `false` when its type does not fit the column.
    fn append(&mut self, v: &Value) -> bool {
        match (self, v) {
            (ColumnBuilder::Text(b), Value::Null) => b.append_null(),
            (ColumnBuilder::Text(b), Value::Text(s)) => b.append_value(s),
            (ColumnBuilder::Timestamp(b), Value::Null) => b.append_null(),
            (ColumnBuilder::Timestamp(b), Value::Timestamp(t)) => b.append_value(*t),
            (ColumnBuilder::Bool(b), Value::Null) => b.append_null(),
            (ColumnBuilder::Bool(b), Value::Bool(x)) => b.append_value(*x),
            (ColumnBuilder::Float(b), Value::Null) => b.append_null(),
            (ColumnBuilder::Float(b), Value::Float(x)) => b.append_value(*x),
            (ColumnBuilder::Int(b), Value::Null) => b.append_null(),
            (ColumnBuilder::Int(b), Value::Int(x)) => b.append_value(*x),
            (ColumnBuilder::TextList(b), Value::Null) => b.append_null(),
            (ColumnBuilder::TextList(b), Value::TextList(items)) => {
                for item in items {
                    b.values().append_value(item);
                }
                b.append(true);
            }
            _ => return false,
        }
        true
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Text(b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(b) => Arc::new(b.finish()),
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
            ColumnBuilder::Float(b) => Arc::new(b.finish()),
            ColumnBuilder::Int(b) => Arc::new(b.finish()),
            ColumnBuilder::TextList(b) => Arc::new(b.finish()),
        }
    }
}

/// Accumulates rows for one table and turns them into a record batch.
pub struct BatchBuilder {
    spec: TableSpec,
    columns: Vec<ColumnBuilder>,
    rows: usize,
}

impl BatchBuilder {
    /// An empty builder for `spec`.
    pub fn new(spec: &TableSpec) -> Self {
        BatchBuilder {
            columns: spec
                .columns
                .iter()
                .map(|c| ColumnBuilder::new(c.ty))
                .collect(),
            spec: spec.clone(),
            rows: 0,
        }
    }

    /// Rows appended so far.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row was appended.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends one row, in the table's column order.
    ///
    /// Callers validate first; a mismatch here is a programming error in the caller,
    /// reported (not panicked) because rows can originate in user files.
    pub fn push(&mut self, row: &[Value]) -> Result<()> {
        if row.len() != self.columns.len() {
            return Err(Error::encode(
                self.spec.name,
                format!(
                    "row has {} values, table has {} columns",
                    row.len(),
                    self.columns.len()
                ),
            ));
        }
        for ((builder, value), spec) in self.columns.iter_mut().zip(row).zip(&self.spec.columns) {
            if !builder.append(value) {
                return Err(Error::encode(
                    format!("{}.{}", self.spec.name, spec.name),
                    format!("value {value:?} does not fit type {:?}", spec.ty),
                ));
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// The batch of all rows so far (without `_ingested_at`, which the lake adds).
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let fields: Vec<Field> = self
            .spec
            .columns
            .iter()
            .map(|c| Field::new(c.name, c.ty.arrow_type(), !c.required))
            .collect();
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(ColumnBuilder::finish).collect();
        self.rows = 0;
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .map_err(|e| Error::encode(self.spec.name, e))
    }
}
