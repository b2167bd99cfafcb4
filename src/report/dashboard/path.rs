//! Paths into `metrics.json`: how a panel names the part of the document it draws.
//!
//! `dora.series.month.org` is a list of rows; `dora.teams.*` is one row per team (the
//! `*` key becomes a column); `okrs.objectives[].key_results` is every key result of
//! every objective; `cost.org.months[-1]` is the latest month. Dots separate object
//! keys (metrics.json keys never contain one).

use serde_json::{Map, Value as Json};

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// An object key.
    Key(String),
    /// Every value of an object, remembering its key.
    Wildcard,
    /// Every element of an array.
    Each,
    /// One element of an array (negative counts from the end).
    Index(i64),
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsPath {
    text: String,
    steps: Vec<Step>,
}

/// A value found by a path, with the keys its wildcards went through.
pub type Found = (Vec<String>, Json);

impl MetricsPath {
    /// Parses `a.b[].c.*.d[-1]`.
    pub fn parse(text: &str) -> Result<MetricsPath, String> {
        let mut steps = Vec::new();
        for segment in text.split('.') {
            if segment.is_empty() {
                return Err(format!("empty segment in `{text}`"));
            }
            if segment == "*" {
                steps.push(Step::Wildcard);
                continue;
            }
            let (key, index) = match segment.split_once('[') {
                None => (segment, None),
                Some((key, rest)) => {
                    let inner = rest
                        .strip_suffix(']')
                        .ok_or_else(|| format!("unclosed `[` in `{text}`"))?;
                    (key, Some(inner))
                }
            };
            if key.is_empty() {
                return Err(format!("`[` without a key before it in `{text}`"));
            }
            steps.push(Step::Key(key.to_string()));
            match index {
                None => {}
                Some("") => steps.push(Step::Each),
                Some(i) => steps
                    .push(Step::Index(i.parse().map_err(|_| {
                        format!("`[{i}]` in `{text}` is not an index")
                    })?)),
            }
        }
        Ok(MetricsPath {
            text: text.to_string(),
            steps,
        })
    }

    /// How many `*` the path has (key columns of its rows).
    pub fn wildcards(&self) -> usize {
        self.steps.iter().filter(|s| **s == Step::Wildcard).count()
    }

    /// Every value the path reaches; `None` when a named key is missing (the
    /// section is not in this document yet).
    pub fn find(&self, doc: &Json) -> Option<Vec<Found>> {
        let mut found: Vec<Found> = vec![(Vec::new(), doc.clone())];
        for step in &self.steps {
            let mut next = Vec::new();
            for (keys, value) in found {
                match step {
                    Step::Key(k) => {
                        if let Some(v) = value.get(k) {
                            next.push((keys, v.clone()));
                        }
                    }
                    Step::Wildcard => {
                        if let Json::Object(map) = value {
                            for (k, v) in map {
                                let mut keys = keys.clone();
                                keys.push(k);
                                next.push((keys, v));
                            }
                        }
                    }
                    Step::Each => {
                        if let Json::Array(items) = value {
                            next.extend(items.into_iter().map(|v| (keys.clone(), v)));
                        }
                    }
                    Step::Index(i) => {
                        if let Json::Array(items) = value {
                            let len = items.len() as i64;
                            let at = if *i < 0 { len + i } else { *i };
                            if let Some(v) = usize::try_from(at).ok().and_then(|a| items.get(a)) {
                                next.push((keys, v.clone()));
                            }
                        }
                    }
                }
            }
            if next.is_empty() && matches!(step, Step::Key(_)) {
                return None;
            }
            found = next;
        }
        Some(found)
    }

    /// The one value the path reaches (tiles): the first found.
    pub fn value(&self, doc: &Json) -> Option<Json> {
        self.find(doc)?.into_iter().next().map(|(_, v)| v)
    }

    /// The numbers the path reaches, in order (a tile's trend); non-numbers are gaps.
    pub fn numbers(&self, doc: &Json) -> Vec<Option<f64>> {
        self.find(doc)
            .unwrap_or_default()
            .into_iter()
            .map(|(_, v)| v.as_f64())
            .collect()
    }

    /// The rows the path reaches: a list becomes one row per element, an object one
    /// row; nested objects flatten to dotted columns (`lead_time.median_hours`) and
    /// the wildcard keys become the columns named by `key_as` (`key`, `key2`, ...).
    pub fn rows(&self, doc: &Json, key_as: &[String]) -> Option<Vec<Map<String, Json>>> {
        let mut rows = Vec::new();
        for (keys, value) in self.find(doc)? {
            let items = match value {
                Json::Array(items) => items,
                other => vec![other],
            };
            for item in items {
                let mut row = Map::new();
                for (i, k) in keys.iter().enumerate() {
                    row.insert(key_column(key_as, i), Json::String(k.clone()));
                }
                match item {
                    Json::Object(map) => flatten_into(&mut row, "", map),
                    other => {
                        row.insert("value".into(), other);
                    }
                }
                rows.push(row);
            }
        }
        Some(rows)
    }
}

/// The name of the `i`-th key column.
pub fn key_column(key_as: &[String], i: usize) -> String {
    key_as.get(i).cloned().unwrap_or_else(|| match i {
        0 => "key".to_string(),
        _ => format!("key{}", i + 1),
    })
}

fn flatten_into(row: &mut Map<String, Json>, prefix: &str, map: Map<String, Json>) {
    for (k, v) in map {
        let name = if prefix.is_empty() {
            k
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Json::Object(inner) => flatten_into(row, &name, inner),
            other => {
                row.insert(name, other);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Json {
        json!({
            "dora": {
                "teams": {"a": {"lead_time": {"median_hours": 5.0, "n": 3}}, "b": {"lead_time": {"median_hours": 7.5, "n": 4}}},
                "series": {"month": {"teams": {"a": [{"period_start": "2026-01-01", "n": 1}, {"period_start": "2026-02-01", "n": 2}]}}}
            },
            "okrs": {"objectives": [{"key_results": [{"id": "k1"}, {"id": "k2"}]}, {"key_results": [{"id": "k3"}]}]},
            "cost": {"org": {"months": [{"m": 1}, {"m": 2}, {"m": 3}]}}
        })
    }

    fn path(text: &str) -> MetricsPath {
        MetricsPath::parse(text).expect("valid path")
    }

    #[test]
    fn wildcards_become_key_columns_and_objects_flatten() {
        let rows = path("dora.teams.*")
            .rows(&doc(), &["team".into()])
            .expect("found");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1]["team"], json!("b"));
        assert_eq!(rows[1]["lead_time.median_hours"], json!(7.5));
        let series = path("dora.series.month.teams.*")
            .rows(&doc(), &[])
            .expect("found");
        assert_eq!(series.len(), 2);
        assert_eq!(series[1]["key"], json!("a"));
        assert_eq!(series[1]["period_start"], json!("2026-02-01"));
    }

    #[test]
    fn each_and_index_steps() {
        let krs = path("okrs.objectives[].key_results")
            .rows(&doc(), &[])
            .expect("found");
        let ids: Vec<&Json> = krs.iter().map(|r| &r["id"]).collect();
        assert_eq!(ids, [&json!("k1"), &json!("k2"), &json!("k3")]);
        assert_eq!(path("cost.org.months[-1].m").value(&doc()), Some(json!(3)));
        assert_eq!(path("cost.org.months[0].m").value(&doc()), Some(json!(1)));
        assert_eq!(
            path("cost.org.months[].m").numbers(&doc()),
            [Some(1.0), Some(2.0), Some(3.0)]
        );
    }

    #[test]
    fn a_missing_section_is_none_and_bad_paths_are_errors() {
        assert_eq!(path("north_star.headline").rows(&doc(), &[]), None);
        assert_eq!(path("cost.org.months[7]").value(&doc()), None);
        assert!(MetricsPath::parse("a..b").is_err());
        assert!(MetricsPath::parse("a[x]").is_err());
        assert!(MetricsPath::parse("a[1").is_err());
        assert_eq!(path("dora.teams.*.lead_time").wildcards(), 1);
    }
}
