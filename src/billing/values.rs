//! Lenient readers for the cells billing exports actually contain.
//!
//! Exports in the wild write nulls as `NULL`/`null`, money as `"$10,000.00 "` or
//! `5.2E-9`, and dates as RFC 3339, `2024-09-01 00:00:00`, `2024-01-01T00:00Z`,
//! `2023-11-01T00:00:00.000Z`, `9/2/2023` or `4/1/25`. Each reader accepts those
//! and rejects anything else with a reason naming the value.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::Value as Json;

use super::row::FieldError;
use super::tabular::{Cell, SourceRecord, is_null_text};

/// A cell as text, `None` for null, empty and `NULL`. Numbers and booleans are
/// written as JSON writes them; objects and arrays as compact JSON.
pub fn text(cell: Option<&Json>) -> Option<String> {
    cell_text(cell.map(Cell::from))
}

/// [`text`] of a cell of any record.
pub fn cell_text(cell: Option<Cell<'_>>) -> Option<String> {
    match cell? {
        Cell::Json(Json::Null) => None,
        Cell::Text(s) if is_null_text(s) => None,
        Cell::Text(s) => Some(s.trim().to_string()),
        Cell::Json(other) => Some(other.to_string()),
    }
}

/// A money or quantity cell: numbers, numeric text (scientific notation allowed),
/// and currency-formatted text (`"$10,000.00 "`, `(12.50)` for negatives).
pub fn number(cell: Option<&Json>) -> Result<Option<f64>, String> {
    cell_number(cell.map(Cell::from))
}

/// [`number`] of a cell of any record.
pub fn cell_number(cell: Option<Cell<'_>>) -> Result<Option<f64>, String> {
    match cell {
        None | Some(Cell::Json(Json::Null)) => Ok(None),
        Some(Cell::Json(Json::Number(n))) => n
            .as_f64()
            .filter(|f| f.is_finite())
            .map(Some)
            .ok_or_else(|| format!("not a finite number: `{n}`")),
        Some(Cell::Text(s)) if is_null_text(s) => Ok(None),
        Some(Cell::Text(s)) => parse_number(s).map(Some),
        Some(Cell::Json(other)) => Err(format!("not a number: `{other}`")),
    }
}

/// Numeric text, tolerating a currency symbol, thousands separators, spaces and
/// accounting parentheses.
pub fn parse_number(s: &str) -> Result<f64, String> {
    let t = s.trim();
    if let Ok(f) = t.parse::<f64>()
        && f.is_finite()
    {
        return Ok(f);
    }
    let (negative, inner) = match t.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        Some(inner) => (true, inner),
        None => (false, t),
    };
    let cleaned: String = inner
        .chars()
        .filter(|c| !matches!(c, '$' | '€' | '£' | '¥' | ',' | ' ' | '\u{a0}'))
        .collect();
    match cleaned.parse::<f64>() {
        Ok(f) if f.is_finite() && !cleaned.is_empty() => Ok(if negative { -f } else { f }),
        _ => Err(format!("not a number: `{s}`")),
    }
}

/// A date-time cell in microseconds since the epoch, UTC. Text without a zone is
/// read as UTC (billing exports are UTC by their specs); numbers are epoch
/// milliseconds (as some Parquet writers store them).
pub fn time(cell: Option<&Json>) -> Result<Option<i64>, String> {
    cell_time(cell.map(Cell::from))
}

/// [`time`] of a cell of any record.
pub fn cell_time(cell: Option<Cell<'_>>) -> Result<Option<i64>, String> {
    match cell {
        None | Some(Cell::Json(Json::Null)) => Ok(None),
        Some(Cell::Text(s)) if is_null_text(s) => Ok(None),
        Some(Cell::Text(s)) => parse_time(s).map(Some),
        Some(Cell::Json(other)) => Err(format!("not a date or time: `{other}`")),
    }
}

const NAIVE_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
];

const DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%Y%m%d"];

/// See [`time`]: RFC 3339, ISO without zone or seconds, US `M/D/YYYY` and `M/D/YY`.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let t = s.trim();
    if let Ok(ts) = DateTime::parse_from_rfc3339(t) {
        return Ok(ts.timestamp_micros());
    }
    // `2024-01-01T00:00Z`, `2024-01-01 00:00:00 UTC`, `...+00:00` without seconds.
    let bare = t
        .strip_suffix(" UTC")
        .or_else(|| t.strip_suffix('Z'))
        .or_else(|| t.strip_suffix("+00:00"))
        .unwrap_or(t);
    // `4/1/25`: a two-digit year is 20xx (chrono's `%Y` would read year 25).
    let two_digit_year = bare
        .rsplit('/')
        .next()
        .is_some_and(|y| bare.contains('/') && y.len() == 2);
    if two_digit_year && let Ok(d) = NaiveDate::parse_from_str(bare, "%m/%d/%y") {
        return Ok(midnight(d));
    }
    for f in NAIVE_FORMATS {
        if let Ok(dt) = NaiveDateTime::parse_from_str(bare, f) {
            return Ok(dt.and_utc().timestamp_micros());
        }
    }
    for f in DATE_FORMATS {
        if let Ok(d) = NaiveDate::parse_from_str(bare, f) {
            return Ok(midnight(d));
        }
    }
    Err(format!(
        "not a date or time (like 2024-05-01T12:00:00Z or 5/1/2024): `{s}`"
    ))
}

fn midnight(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map_or(0, |m| m.and_utc().timestamp_micros())
}

/// A tags cell as a JSON object string: JSON objects as they are, Azure EA's
/// brace-less `"k": "v","k2": "v2"` wrapped, and key-value lists (`[{"key":..,
/// "value":..}]`, GCP labels) folded into one object. `None` when empty.
pub fn tags_object(cell: Option<&Json>) -> Result<Option<serde_json::Map<String, Json>>, String> {
    cell_tags_object(cell.map(Cell::from))
}

/// [`tags_object`] of a cell of any record.
pub fn cell_tags_object(
    cell: Option<Cell<'_>>,
) -> Result<Option<serde_json::Map<String, Json>>, String> {
    let parsed = match cell {
        None | Some(Cell::Json(Json::Null)) => return Ok(None),
        Some(Cell::Text(s)) if is_null_text(s) || s.trim() == "{}" => return Ok(None),
        Some(Cell::Text(s)) => {
            let t = s.trim();
            let candidate = if t.starts_with('{') || t.starts_with('[') {
                t.to_string()
            } else {
                format!("{{{t}}}")
            };
            match serde_json::from_str::<Json>(&candidate) {
                Ok(v) => v,
                // pandas' CSV of a BigQuery export: `[{'key': 'env', 'value': 'prod'}]`.
                Err(e) => match parse_python_literal(t) {
                    Ok(v) if t.starts_with('{') || t.starts_with('[') => v,
                    _ => return Err(format!("tags are not a JSON object ({e}): `{s}`")),
                },
            }
        }
        Some(Cell::Json(other)) => other.clone(),
    };
    match parsed {
        Json::Object(map) if map.is_empty() => Ok(None),
        Json::Object(map) => Ok(Some(
            map.into_iter()
                .map(|(k, v)| (k.trim().to_string(), v))
                .collect(),
        )),
        Json::Array(items) => {
            let mut map = serde_json::Map::new();
            for item in items {
                let key = text(item.get("key"));
                if let Some(key) = key {
                    map.insert(key, item.get("value").cloned().unwrap_or(Json::Null));
                }
            }
            Ok((!map.is_empty()).then_some(map))
        }
        other => Err(format!("tags are not a JSON object: `{other}`")),
    }
}

/// JSON text, or else a Python literal (see [`parse_python_literal`]); the flag
/// tells which it was.
pub fn json_or_python(s: &str) -> Result<(Json, bool), String> {
    match serde_json::from_str::<Json>(s) {
        Ok(v) => Ok((v, false)),
        Err(e) => parse_python_literal(s)
            .map(|v| (v, true))
            .map_err(|_| format!("not JSON ({e})")),
    }
}

/// A Python literal as JSON: `[{'name': 'Free tier', 'amount': -5e-06, 'id': None}]`.
/// pandas writes BigQuery's repeated fields that way when it saves a billing
/// export as CSV (`credits`, `labels`). Strings in single or double quotes (with
/// Python's escapes), numbers, `None`, `True`, `False`, lists, tuples and dicts.
pub fn parse_python_literal(s: &str) -> Result<Json, String> {
    let mut p = PyParser {
        chars: s.chars().collect(),
        at: 0,
    };
    let value = p.value()?;
    p.skip_space();
    if p.at < p.chars.len() {
        return Err(format!(
            "unexpected `{}` at character {}",
            p.chars[p.at],
            p.at + 1
        ));
    }
    Ok(value)
}

struct PyParser {
    chars: Vec<char>,
    at: usize,
}

impl PyParser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn fail<T>(&self, what: &str) -> Result<T, String> {
        match self.peek() {
            Some(c) => Err(format!(
                "expected {what}, found `{c}` at character {}",
                self.at + 1
            )),
            None => Err(format!("expected {what}, found the end")),
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.skip_space();
        match self.peek() {
            Some('[') => self.sequence(']'),
            Some('(') => self.sequence(')'),
            Some('{') => self.dict(),
            Some(q @ ('\'' | '"')) => self.string(q).map(Json::String),
            Some(c) if c.is_ascii_digit() || matches!(c, '-' | '+' | '.') => self.number(),
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.at;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    self.at += 1;
                }
                let word: String = self.chars[start..self.at].iter().collect();
                match word.as_str() {
                    "None" => Ok(Json::Null),
                    "True" => Ok(Json::Bool(true)),
                    "False" => Ok(Json::Bool(false)),
                    _ => Err(format!("`{word}` is not a Python literal")),
                }
            }
            _ => self.fail("a value"),
        }
    }

    /// `[a, b]` or `(a, b)`, a trailing comma allowed.
    fn sequence(&mut self, close: char) -> Result<Json, String> {
        self.at += 1;
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some(close) {
                self.at += 1;
                return Ok(Json::Array(items));
            }
            items.push(self.value()?);
            self.skip_space();
            match self.peek() {
                Some(',') => self.at += 1,
                Some(c) if c == close => {}
                _ => return self.fail(&format!("`,` or `{close}`")),
            }
        }
    }

    fn dict(&mut self) -> Result<Json, String> {
        self.at += 1;
        let mut map = serde_json::Map::new();
        loop {
            self.skip_space();
            if self.peek() == Some('}') {
                self.at += 1;
                return Ok(Json::Object(map));
            }
            let key = match self.value()? {
                Json::String(k) => k,
                other => other.to_string(),
            };
            self.skip_space();
            if self.peek() != Some(':') {
                return self.fail("`:`");
            }
            self.at += 1;
            let value = self.value()?;
            map.insert(key, value);
            self.skip_space();
            match self.peek() {
                Some(',') => self.at += 1,
                Some('}') => {}
                _ => return self.fail("`,` or `}`"),
            }
        }
    }

    fn string(&mut self, quote: char) -> Result<String, String> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err("a string without its closing quote".into());
            };
            self.at += 1;
            if c == quote {
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(e) = self.peek() else {
                return Err("a string without its closing quote".into());
            };
            self.at += 1;
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                'x' | 'u' | 'U' => {
                    let len = match e {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = self.chars.iter().skip(self.at).take(len).collect();
                    let decoded = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                    match decoded {
                        Some(ch) if hex.len() == len => {
                            out.push(ch);
                            self.at += len;
                        }
                        _ => return Err(format!("bad escape `\\{e}{hex}`")),
                    }
                }
                '\\' | '\'' | '"' => out.push(e),
                other => {
                    // Python keeps an unknown escape as written.
                    out.push('\\');
                    out.push(other);
                }
            }
        }
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Json::from(i));
        }
        text.parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Json::Number)
            .ok_or_else(|| format!("not a number: `{text}`"))
    }
}

/// The header column among `names` (first alias that matches, case-insensitively),
/// as the file spells it: exports of one provider differ in casing and naming
/// (`Cost`, `CostInBillingCurrency`, `costInBillingCurrency`).
pub fn find_column(header: &[String], names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| header.iter().find(|h| h.eq_ignore_ascii_case(n)).cloned())
}

/// A record's cell as text (see [`text`]); `None` when `column` is.
pub fn text_in(record: &SourceRecord, column: Option<&str>) -> Option<String> {
    text(column.and_then(|c| record.get(c)))
}

/// A record's cell as a number (see [`number`]); an error names the column.
pub fn number_in(record: &SourceRecord, column: Option<&str>) -> Result<Option<f64>, FieldError> {
    match column {
        Some(c) => number(record.get(c)).map_err(|reason| FieldError::new(c, reason)),
        None => Ok(None),
    }
}

/// A record's cell as a time (see [`time`]); an error names the column.
pub fn time_in(record: &SourceRecord, column: Option<&str>) -> Result<Option<i64>, FieldError> {
    match column {
        Some(c) => time(record.get(c)).map_err(|reason| FieldError::new(c, reason)),
        None => Ok(None),
    }
}

/// A tag map as the compact JSON object string the `Tags` column holds, `None`
/// when empty.
pub fn tags_json(tags: serde_json::Map<String, Json>) -> Option<String> {
    (!tags.is_empty()).then(|| Json::Object(tags).to_string())
}

/// Words in a provider's service or meter name → FOCUS `ServiceCategory`, first
/// match wins. Deliberately small: a name none of them matches is `Other`, which
/// FOCUS allows, rather than a guess. Management comes first so that "Log
/// Analytics" is not read as Analytics; databases before storage so that a
/// database's storage meter stays a database cost.
const SERVICE_CATEGORIES: &[(&str, &[&str])] = &[
    (
        "Management and Governance",
        &[
            "log analytics",
            "monitor",
            "cloudwatch",
            "cloudtrail",
            "logging",
            "telemetry",
            "cost management",
            "advisor",
            "config",
        ],
    ),
    (
        "AI and Machine Learning",
        &[
            "machine learning",
            "sagemaker",
            "vertex",
            "cognitive",
            "openai",
            "bedrock",
            "generative",
        ],
    ),
    (
        "Databases",
        &[
            "database",
            "sql",
            "dynamodb",
            "cosmos",
            "redis",
            "mysql",
            "postgres",
            "spanner",
            "bigtable",
            "firestore",
            "elasticache",
            "nosql",
        ],
    ),
    (
        "Analytics",
        &[
            "bigquery",
            "glue",
            "athena",
            "redshift",
            "data factory",
            "dataflow",
            "kinesis",
            "synapse",
            "databricks",
        ],
    ),
    (
        "Security",
        &[
            "security",
            "threat",
            "key vault",
            "key management",
            "kms",
            "guardduty",
            "waf",
            "secret",
            "defender",
        ],
    ),
    (
        "Identity",
        &["identity", "active directory", "entra", "cognito"],
    ),
    (
        "Integration",
        &[
            "notification",
            "queue",
            "sns",
            "sqs",
            "pub/sub",
            "service bus",
            "event grid",
            "logic apps",
            "eventbridge",
        ],
    ),
    ("Internet of Things", &["iot"]),
    (
        "Networking",
        &[
            "network",
            "data transfer",
            "datatransfer",
            "cdn",
            "cloudfront",
            "dns",
            "route 53",
            "vpc",
            "virtual private cloud",
            "load balanc",
            "bandwidth",
            "peering",
            "gateway",
            "vcn",
        ],
    ),
    (
        "Storage",
        &[
            "storage",
            "blob",
            "glacier",
            "disk",
            "objectstore",
            "backup",
            "archive",
            "file system",
        ],
    ),
    (
        "Compute",
        &[
            "compute",
            "ec2",
            "virtual machine",
            "lambda",
            "kubernetes",
            "container",
            "fargate",
            "app service",
            "functions",
            "batch",
            "cloud run",
        ],
    ),
    (
        "Developer Tools",
        &["cloudshell", "cloud shell", "codebuild", "devops", "apex"],
    ),
];

/// The FOCUS `ServiceCategory` of a service name (see [`SERVICE_CATEGORIES`]).
pub fn service_category(service: &str) -> &'static str {
    let name = service.to_ascii_lowercase();
    SERVICE_CATEGORIES
        .iter()
        .find(|(_, words)| words.iter().any(|w| name.contains(w)))
        .map_or("Other", |(category, _)| category)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> i64 {
        parse_time(s).unwrap()
    }

    #[test]
    fn every_date_spelling_seen_in_exports() {
        let iso = t("2024-09-01T00:00:00Z");
        for s in [
            "2024-09-01 00:00:00",
            "2024-09-01T00:00Z",
            "2024-09-01T00:00:00.000Z",
            "2024-09-01",
            "9/1/2024",
            "09/01/2024",
            "9/1/24",
            "2024-09-01 00:00:00 UTC",
        ] {
            assert_eq!(t(s), iso, "{s}");
        }
        assert!(parse_time("2024-13-01").is_err());
        assert!(parse_time("T30:00:00Z").is_err());
    }

    #[test]
    fn money_as_text() {
        assert_eq!(parse_number("$10,000.00 ").unwrap(), 10_000.0);
        assert_eq!(parse_number("5.2E-9").unwrap(), 5.2e-9);
        assert_eq!(parse_number("(12.50)").unwrap(), -12.5);
        assert!(parse_number("ten").is_err());
        assert!(parse_number("NaN").is_err());
        assert_eq!(number(Some(&json!("NULL"))).unwrap(), None);
        assert_eq!(number(Some(&json!(1.5))).unwrap(), Some(1.5));
    }

    #[test]
    fn tags_in_three_shapes() {
        let azure = json!(r#""env": "prod","org": "trey""#);
        let m = tags_object(Some(&azure)).unwrap().unwrap();
        assert_eq!(m["org"], json!("trey"));
        let focus = json!(r#"{"team":"a"," org":"b"}"#);
        let m = tags_object(Some(&focus)).unwrap().unwrap();
        assert_eq!(m["org"], json!("b"));
        let gcp = json!([{"key": "team", "value": "x"}]);
        assert_eq!(
            tags_object(Some(&gcp)).unwrap().unwrap()["team"],
            json!("x")
        );
        assert_eq!(tags_object(Some(&json!("NULL"))).unwrap(), None);
        assert!(tags_object(Some(&json!("{not json"))).is_err());
    }

    #[test]
    fn python_literals_as_pandas_writes_them() {
        let credits = "[{'name': 'FreeTrial:Credit-1', 'amount': -5e-06, 'full_name': None, \
                       'id': \"it's\", 'ok': True, 'n': 3, 't': (1, 2,)}]";
        let v = parse_python_literal(credits).unwrap();
        assert_eq!(v[0]["amount"], json!(-5e-06));
        assert_eq!(v[0]["full_name"], Json::Null);
        assert_eq!(v[0]["id"], json!("it's"));
        assert_eq!(v[0]["ok"], json!(true));
        assert_eq!(v[0]["n"], json!(3));
        assert_eq!(v[0]["t"], json!([1, 2]));
        assert_eq!(
            parse_python_literal(r"['a\'b', '\xe9\n']").unwrap(),
            json!(["a'b", "é\n"])
        );
        assert!(parse_python_literal("[{'a': 1}").is_err());
        assert!(parse_python_literal("[nan]").is_err());
        assert!(parse_python_literal("['open").is_err());
        let labels = json!("[{'key': 'goog-resource-type', 'value': 'bigquery_dataset'}]");
        let m = tags_object(Some(&labels)).unwrap().unwrap();
        assert_eq!(m["goog-resource-type"], json!("bigquery_dataset"));
        assert_eq!(json_or_python("[1]").unwrap(), (json!([1]), false));
        assert_eq!(json_or_python("[None]").unwrap(), (json!([null]), true));
    }

    #[test]
    fn service_categories_from_names() {
        assert_eq!(service_category("Amazon Simple Storage Service"), "Storage");
        assert_eq!(
            service_category("Log Analytics"),
            "Management and Governance"
        );
        assert_eq!(service_category("Virtual Machines"), "Compute");
        assert_eq!(service_category("SQL Managed Instance"), "Databases");
        assert_eq!(service_category("Something new"), "Other");
    }

    #[test]
    fn columns_by_alias_and_case() {
        let header = vec!["costInBillingCurrency".to_string(), "Date".to_string()];
        let found = find_column(&header, &["Cost", "CostInBillingCurrency"]);
        assert_eq!(found.as_deref(), Some("costInBillingCurrency"));
        assert_eq!(find_column(&header, &["Quantity"]), None);
    }
}
