//! Rows built by column name, checked against their table's spec.
//!
//! A row in the lake is positional (a `Vec<Value>` in the spec's column order), which
//! only catches a wrong *number* of values: two text columns swapped in a collector
//! would be stored swapped. Code that produces rows names every column instead
//! ([`RowBuilder::set`]); [`RowBuilder::finish`] then rejects a column the table does
//! not have, one set twice, one left out, or a value of the wrong type, and only then
//! lays the values out in the spec's order.

use chrono::{DateTime, Utc};

use super::batch::Value;
use super::tables::{ColumnType, TableSpec};
use crate::error::{Error, Result};

/// One row of `spec`, filled column by column.
#[derive(Debug)]
pub struct RowBuilder<'a> {
    spec: &'a TableSpec,
    values: Vec<Option<Value>>,
    /// The first mistake, reported by `finish` (so `set` can chain).
    error: Option<String>,
}

impl<'a> RowBuilder<'a> {
    /// An empty row of `spec`.
    pub fn new(spec: &'a TableSpec) -> Self {
        RowBuilder {
            spec,
            values: vec![None; spec.columns.len()],
            error: None,
        }
    }

    /// Sets `column` to `value`.
    pub fn set(mut self, column: &str, value: impl Into<Value>) -> Self {
        if self.error.is_some() {
            return self;
        }
        let value = value.into();
        let Some(i) = self.spec.columns.iter().position(|c| c.name == column) else {
            self.error = Some(format!("no column `{column}`"));
            return self;
        };
        let ty = self.spec.columns[i].ty;
        if !fits(&value, ty) {
            self.error = Some(format!("`{column}`: value {value:?} does not fit {ty:?}"));
        } else if self.values[i].replace(value).is_some() {
            self.error = Some(format!("`{column}` set twice"));
        }
        self
    }

    /// The values in the table's column order; an error names the table and the
    /// first column missing, unknown, repeated or mistyped.
    pub fn finish(self) -> Result<Vec<Value>> {
        if let Some(reason) = self.error {
            return Err(Error::encode(self.spec.name, reason));
        }
        let missing: Vec<&str> = self
            .spec
            .columns
            .iter()
            .zip(&self.values)
            .filter(|(_, v)| v.is_none())
            .map(|(c, _)| c.name)
            .collect();
        if !missing.is_empty() {
            return Err(Error::encode(
                self.spec.name,
                format!("columns not set: {}", missing.join(", ")),
            ));
        }
        Ok(self.values.into_iter().flatten().collect())
    }
}

/// Whether `value` can be stored in a column of type `ty` (null fits any).
fn fits(value: &Value, ty: ColumnType) -> bool {
    matches!(
        (value, ty),
        (Value::Null, _)
            | (Value::Text(_), ColumnType::Text)
            | (Value::Timestamp(_), ColumnType::Timestamp)
            | (Value::Bool(_), ColumnType::Bool)
            | (Value::Float(_), ColumnType::Float)
            | (Value::Int(_), ColumnType::Int)
            | (Value::TextList(_), ColumnType::TextList)
    )
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::text(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::text(s)
    }
}

impl From<Option<String>> for Value {
    fn from(s: Option<String>) -> Self {
        Value::opt_text(s)
    }
}

impl From<Option<&str>> for Value {
    fn from(s: Option<&str>) -> Self {
        Value::opt_text(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<Vec<String>> for Value {
    fn from(items: Vec<String>) -> Self {
        Value::TextList(items)
    }
}

impl From<DateTime<Utc>> for Value {
    fn from(t: DateTime<Utc>) -> Self {
        Value::Timestamp(t.timestamp_micros())
    }
}

impl From<Option<DateTime<Utc>>> for Value {
    fn from(t: Option<DateTime<Utc>>) -> Self {
        Value::opt_ts(t.map(|t| t.timestamp_micros()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::tables;

    fn link(spec: &TableSpec) -> RowBuilder<'_> {
        RowBuilder::new(spec)
            .set("deployment_id", "d")
            .set("commit_sha", "c")
    }

    #[test]
    fn a_full_row_comes_out_in_column_order() {
        let spec = tables::table("deployment_commits").unwrap();
        let row = RowBuilder::new(&spec)
            .set("commit_sha", "c")
            .set("deployment_id", "d")
            .finish()
            .unwrap();
        assert_eq!(row, vec![Value::text("d"), Value::text("c")]);
    }

    #[test]
    fn unknown_repeated_missing_and_mistyped_columns_are_errors() {
        let spec = tables::table("deployment_commits").unwrap();
        let err = |b: RowBuilder<'_>| b.finish().unwrap_err().to_string();
        assert!(err(link(&spec).set("sha", "x")).contains("no column `sha`"));
        assert!(err(link(&spec).set("commit_sha", "x")).contains("set twice"));
        let missing = RowBuilder::new(&spec).set("deployment_id", "d");
        assert!(err(missing).contains("columns not set: commit_sha"));
        let mistyped = RowBuilder::new(&spec).set("deployment_id", true);
        assert!(err(mistyped).contains("does not fit"));
    }
}
