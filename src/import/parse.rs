//! Text and JSON cells → typed [`Value`]s, validated against a column's spec.
//!
//! Every rejection returns a reason a person can act on ("not an RFC 3339
//! timestamp: `2024-13-01`"); the caller adds the file, line and column.

use chrono::{DateTime, NaiveDate};
use serde_json::Value as Json;

use crate::lake::batch::Value;
use crate::lake::tables::{ColumnSpec, ColumnType};

/// A raw cell as it came out of a file.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    /// Absent from the record.
    Missing,
    /// CSV text (empty text means missing).
    Text(&'a str),
    /// An NDJSON value.
    Json(&'a Json),
}

/// Parses and validates one cell for `column`.
pub fn parse_cell(column: &ColumnSpec, cell: Cell<'_>) -> Result<Value, String> {
    let value = match cell {
        Cell::Missing | Cell::Json(Json::Null) => Value::Null,
        Cell::Text(t) if t.trim().is_empty() => Value::Null,
        Cell::Text(t) => parse_text(column.ty, t.trim())?,
        Cell::Json(j) => parse_json(column.ty, j)?,
    };
    let value = match (value, column.default) {
        (Value::Null, Some(default)) => Value::Text(default.to_string()),
        (v, _) => v,
    };
    if value == Value::Null && column.required {
        return Err("required value is missing".into());
    }
    if let Value::Text(s) = &value
        && !column.allowed.is_empty()
        && !column.allowed.contains(&s.as_str())
    {
        return Err(format!("`{s}` is not one of {}", column.allowed.join(", ")));
    }
    Ok(value)
}

fn parse_text(ty: ColumnType, t: &str) -> Result<Value, String> {
    match ty {
        ColumnType::Text => Ok(Value::Text(t.to_string())),
        ColumnType::Timestamp => parse_timestamp(t).map(Value::Timestamp),
        ColumnType::Bool => parse_bool(t).map(Value::Bool),
        ColumnType::Float => parse_float(t).map(Value::Float),
        ColumnType::Int => t
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| format!("not an integer: `{t}`")),
        ColumnType::TextList => parse_list_text(t).map(Value::TextList),
    }
}

fn parse_json(ty: ColumnType, j: &Json) -> Result<Value, String> {
    match (ty, j) {
        (_, Json::String(s)) if ty != ColumnType::Text && s.trim().is_empty() => Ok(Value::Null),
        (ColumnType::TextList, Json::Array(items)) => items
            .iter()
            .map(|i| match i {
                Json::String(s) => Ok(s.clone()),
                other => Err(format!("list items must be strings, found `{other}`")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::TextList),
        (ColumnType::Text, Json::String(s)) => Ok(Value::Text(s.clone())),
        (ColumnType::Text, Json::Number(n)) => Ok(Value::Text(n.to_string())),
        (ColumnType::Bool, Json::Bool(b)) => Ok(Value::Bool(*b)),
        (ColumnType::Float, Json::Number(n)) => n
            .as_f64()
            .filter(|f| f.is_finite())
            .map(Value::Float)
            .ok_or_else(|| format!("not a finite number: `{n}`")),
        (ColumnType::Int, Json::Number(n)) => n
            .as_i64()
            .map(Value::Int)
            .ok_or_else(|| format!("not an integer: `{n}`")),
        (_, Json::String(s)) => parse_text(ty, s.trim()),
        (ty, other) => Err(format!("expected {}, found `{other}`", type_word(ty))),
    }
}

fn type_word(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Text => "text",
        ColumnType::Timestamp => "an RFC 3339 timestamp string",
        ColumnType::Bool => "true or false",
        ColumnType::Float => "a number",
        ColumnType::Int => "an integer",
        ColumnType::TextList => "a list of strings",
    }
}

/// RFC 3339 (`2024-05-01T12:00:00Z`, any offset, converted to UTC), or a bare
/// date (`2024-05-01`, midnight UTC). Returns microseconds since the epoch.
pub fn parse_timestamp(t: &str) -> Result<i64, String> {
    if let Ok(ts) = DateTime::parse_from_rfc3339(t) {
        return Ok(ts.timestamp_micros());
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d")
        && let Some(midnight) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(midnight.and_utc().timestamp_micros());
    }
    Err(format!(
        "not an RFC 3339 timestamp (like 2024-05-01T12:00:00Z): `{t}`"
    ))
}

fn parse_bool(t: &str) -> Result<bool, String> {
    match t.to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" | "y" => Ok(true),
        "false" | "f" | "0" | "no" | "n" => Ok(false),
        _ => Err(format!("not a boolean (true/false): `{t}`")),
    }
}

fn parse_float(t: &str) -> Result<f64, String> {
    t.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .ok_or_else(|| format!("not a number: `{t}`"))
}

/// A JSON array of strings, or items separated by `;` (when present) or white space.
fn parse_list_text(t: &str) -> Result<Vec<String>, String> {
    if t.starts_with('[') {
        let parsed: Json = serde_json::from_str(t).map_err(|e| format!("not a JSON array: {e}"))?;
        return match parse_json(ColumnType::TextList, &parsed)? {
            Value::TextList(items) => Ok(items),
            _ => Err(format!("not a JSON array of strings: `{t}`")),
        };
    }
    let items: Vec<String> = if t.contains(';') {
        t.split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    } else {
        t.split_whitespace().map(String::from).collect()
    };
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::tables::table;

    fn column(table_name: &str, name: &str) -> ColumnSpec {
        table(table_name).unwrap().column(name).unwrap().clone()
    }

    #[test]
    fn timestamps_with_offsets_become_utc() {
        let a = parse_timestamp("2024-05-01T14:00:00+02:00").unwrap();
        let b = parse_timestamp("2024-05-01T12:00:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(
            parse_timestamp("2024-05-01").unwrap(),
            parse_timestamp("2024-05-01T00:00:00Z").unwrap()
        );
        assert!(parse_timestamp("2024-13-01T00:00:00Z").is_err());
        assert!(parse_timestamp("yesterday").is_err());
    }

    #[test]
    fn enums_defaults_and_required_values() {
        let kind = column("deployments", "kind");
        assert_eq!(
            parse_cell(&kind, Cell::Text("")).unwrap(),
            Value::text("planned")
        );
        assert!(
            parse_cell(&kind, Cell::Text("revert"))
                .unwrap_err()
                .contains("hotfix")
        );
        let id = column("deployments", "deployment_id");
        assert!(
            parse_cell(&id, Cell::Missing)
                .unwrap_err()
                .contains("missing")
        );
    }

    #[test]
    fn lists_from_csv_and_json() {
        let parents = column("commits", "parent_shas");
        assert_eq!(
            parse_cell(&parents, Cell::Text("a1 b2")).unwrap(),
            Value::TextList(vec!["a1".into(), "b2".into()])
        );
        assert_eq!(
            parse_cell(&parents, Cell::Text(r#"["a1"]"#)).unwrap(),
            Value::TextList(vec!["a1".into()])
        );
        let json = serde_json::json!(["x", 1]);
        assert!(parse_cell(&parents, Cell::Json(&json)).is_err());
    }

    #[test]
    fn numbers_and_booleans() {
        let cost = column("costs", "BilledCost");
        assert_eq!(
            parse_cell(&cost, Cell::Text("1.5")).unwrap(),
            Value::Float(1.5)
        );
        assert!(parse_cell(&cost, Cell::Text("NaN")).is_err());
        let bot = column("commits", "is_bot");
        assert_eq!(
            parse_cell(&bot, Cell::Text("Yes")).unwrap(),
            Value::Bool(true)
        );
        assert!(parse_cell(&bot, Cell::Text("maybe")).is_err());
    }
}
