//! Rows built by column name, checked against their table's spec.
//!
//! A row in the lake is positional (a `Vec<Value>` in the spec's column order), which
//! only catches a wrong *number* of values: two text columns swapped in a collector
//! would be stored swapped. Code that produces rows names every column instead
//! ([`RowBuilder::set`]); [`RowBuilder::finish`] then rejects a column the table does
//! not have, one set twice, one left out, or a value of the wrong type, and only then
//! lays the values out in the spec's order.
//!
//! Generators that build millions of rows of one table use a [`RowTemplate`]: the
//! same checks, with the columns' positions looked up once instead of per cell.

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

/// Named cells of one row: `(column, value)`, in any order.
pub type Cells<const N: usize> = [(&'static str, Value); N];

/// Rows of one table built from named [`Cells`], with the positions of the columns
/// resolved by the first row and reused while later rows name the same columns in
/// the same order (one comparison of names per cell instead of a search).
#[derive(Debug)]
pub struct RowTemplate {
    spec: TableSpec,
    /// The column names of the last resolved row, in its order.
    names: Vec<&'static str>,
    /// For each of `names`, its position in the spec.
    slots: Vec<usize>,
}

impl RowTemplate {
    /// A template of `spec`; nothing is resolved until the first row.
    pub fn new(spec: TableSpec) -> Self {
        RowTemplate {
            spec,
            names: Vec::new(),
            slots: Vec::new(),
        }
    }

    /// The values of `cells` in the table's column order, with the errors of
    /// [`RowBuilder::finish`].
    pub fn row<const N: usize>(&mut self, cells: Cells<N>) -> Result<Vec<Value>> {
        if !self.names.iter().copied().eq(cells.iter().map(|(n, _)| *n)) {
            return self.resolve(cells);
        }
        let mut values = vec![Value::Null; N];
        for ((name, value), &slot) in cells.into_iter().zip(&self.slots) {
            let ty = self.spec.columns[slot].ty;
            if !fits(&value, ty) {
                let reason = format!("`{name}`: value {value:?} does not fit {ty:?}");
                return Err(Error::encode(self.spec.name, reason));
            }
            values[slot] = value;
        }
        Ok(values)
    }

    /// Builds the row by name, and remembers the positions of its columns.
    fn resolve<const N: usize>(&mut self, cells: Cells<N>) -> Result<Vec<Value>> {
        let names: Vec<&'static str> = cells.iter().map(|(n, _)| *n).collect();
        let row = cells
            .into_iter()
            .fold(RowBuilder::new(&self.spec), |b, (n, v)| b.set(n, v))
            .finish()?;
        let columns = &self.spec.columns;
        self.slots = names
            .iter()
            .filter_map(|n| columns.iter().position(|c| c.name == *n))
            .collect();
        self.names = names;
        Ok(row)
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

    #[test]
    fn a_template_lays_out_every_row_by_name_and_checks_each() {
        let mut t = RowTemplate::new(tables::table("deployment_commits").unwrap());
        let row = |c: &str| {
            [
                ("commit_sha", Value::text(c)),
                ("deployment_id", "d".into()),
            ]
        };
        for c in ["c1", "c2"] {
            assert_eq!(t.row(row(c)).unwrap(), vec!["d".into(), Value::text(c)]);
        }
        let swapped = [
            ("deployment_id", Value::text("d")),
            ("commit_sha", "c".into()),
        ];
        assert_eq!(t.row(swapped).unwrap(), vec!["d".into(), "c".into()]);
        let mistyped = [
            ("deployment_id", Value::Bool(true)),
            ("commit_sha", "c".into()),
        ];
        assert!(
            t.row(mistyped)
                .unwrap_err()
                .to_string()
                .contains("does not fit")
        );
        let missing = t.row([("deployment_id", Value::text("d"))]).unwrap_err();
        assert!(missing.to_string().contains("columns not set: commit_sha"));
        let unknown = [("deployment_id", Value::text("d")), ("sha", "c".into())];
        assert!(
            t.row(unknown)
                .unwrap_err()
                .to_string()
                .contains("no column `sha`")
        );
    }
}
