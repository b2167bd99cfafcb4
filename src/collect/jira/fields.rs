//! Reading Jira field values leniently: timestamps in Jira's `+0000` style, option
//! and user objects rendered as text, Atlassian Document Format flattened to text.
//!
//! A value of an unexpected shape reads as absent instead of failing the page: a
//! site's custom fields are configured by its admins, and the documented examples
//! themselves hold placeholders.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use crate::collect::ticket_rules::FieldSource;

/// A Jira timestamp: `2024-03-01T10:15:30.123+0000` (no colon in the offset, which
/// RFC 3339 parsers reject), RFC 3339, or epoch seconds / milliseconds (the bulk
/// changelog). Anything else is `None`.
pub fn time(value: &Json) -> Option<DateTime<Utc>> {
    match value {
        Json::String(s) => time_text(s),
        Json::Number(n) => {
            let n = n.as_i64()?;
            // Epoch seconds stay below 10^11 until the year 5138.
            if n.abs() < 100_000_000_000 {
                DateTime::from_timestamp(n, 0)
            } else {
                DateTime::from_timestamp_millis(n)
            }
        }
        _ => None,
    }
}

/// A Jira timestamp string (`+0000` or RFC 3339 offsets, fraction optional).
pub fn time_text(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A field value as text: strings as they are, numbers and booleans printed, an
/// object by its JSM request type name, `name`, `value`, `displayName` or `key`
/// (options, users, projects, request types), a list by its first element.
pub fn text(value: &Json) -> Option<String> {
    let rendered = match value {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Array(items) => items.iter().find_map(text),
        Json::Object(o) => o.get("requestType").and_then(text).or_else(|| {
            ["name", "value", "displayName", "key"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Json::as_str).map(str::to_string))
        }),
        Json::Null => None,
    };
    rendered.filter(|s| !s.trim().is_empty())
}

/// Rich text as plain text: a plain string, or the `text` nodes of an Atlassian
/// Document Format tree (what REST v3 sends for `description`), space-separated.
pub fn plain_text(value: &Json) -> String {
    fn walk(value: &Json, out: &mut Vec<String>) {
        match value {
            Json::String(s) => out.push(s.clone()),
            Json::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Json::Object(o) => {
                if let Some(t) = o.get("text").and_then(Json::as_str) {
                    out.push(t.to_string());
                }
                if let Some(c) = o.get("content") {
                    walk(c, out);
                }
            }
            _ => {}
        }
    }
    let mut parts = Vec::new();
    walk(value, &mut parts);
    parts.join(" ")
}

/// An issue's fields as the ticket mapping reads them.
pub struct View<'a>(pub &'a Map<String, Json>);

impl View<'_> {
    /// A field's raw value.
    pub fn raw(&self, id: &str) -> &Json {
        self.0.get(id).unwrap_or(&Json::Null)
    }

    /// The `name` of an object field (`issuetype`, `status`, `priority`).
    pub fn name(&self, id: &str) -> Option<String> {
        self.raw(id)
            .get("name")
            .and_then(Json::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    }

    /// A timestamp field.
    pub fn time(&self, id: &str) -> Option<DateTime<Utc>> {
        time(self.raw(id))
    }

    /// The current status's category key, when the issue names one.
    pub fn status_category(&self) -> Option<String> {
        self.raw("status")
            .get("statusCategory")
            .and_then(|c| c.get("key"))
            .and_then(Json::as_str)
            .map(str::to_string)
    }
}

impl FieldSource for View<'_> {
    fn field(&self, id: &str) -> Option<String> {
        text(self.raw(id))
    }

    fn components(&self) -> Vec<String> {
        self.raw("components")
            .as_array()
            .map(|items| items.iter().filter_map(text).collect())
            .unwrap_or_default()
    }

    fn labels(&self) -> Vec<String> {
        self.raw("labels")
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(Json::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jira_offsets_rfc3339_and_epochs_parse_and_placeholders_do_not() {
        let want = "2024-03-01T09:15:30.123Z".parse::<DateTime<Utc>>().ok();
        assert_eq!(time(&json!("2024-03-01T10:15:30.123+0100")), want);
        assert_eq!(time(&json!("2024-03-01T09:15:30.123Z")), want);
        assert_eq!(
            time(&json!(1_492_070_429)),
            DateTime::from_timestamp(1_492_070_429, 0)
        );
        assert_eq!(
            time(&json!(1_492_070_429_000i64)),
            DateTime::from_timestamp(1_492_070_429, 0)
        );
        assert_eq!(
            time(&json!("2024-03-01T16:15:30+0700")),
            "2024-03-01T09:15:30Z".parse::<DateTime<Utc>>().ok(),
            "JSM's iso8601 has no fraction"
        );
        assert_eq!(time(&json!("yesterday")), None);
        assert_eq!(time(&Json::Null), None);
    }

    #[test]
    fn request_types_options_and_users_render_as_text() {
        let jsm = json!({"_links": {}, "requestType": {"id": "12", "name": "New environment"}});
        assert_eq!(text(&jsm).as_deref(), Some("New environment"));
        assert_eq!(text(&json!({"name": "Access"})).as_deref(), Some("Access"));
        assert_eq!(
            text(&json!({"value": "payments", "id": "1"})).as_deref(),
            Some("payments")
        );
        assert_eq!(text(&json!({"displayName": "Mia"})).as_deref(), Some("Mia"));
        assert_eq!(
            text(&json!([{"value": "a"}, {"value": "b"}])).as_deref(),
            Some("a")
        );
        assert_eq!(text(&json!(" ")), None);
        assert_eq!(text(&json!({"self": "https://x"})), None);
    }

    #[test]
    fn document_format_flattens_to_its_text() {
        let adf = json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [
                {"type": "text", "text": "Broke after"},
                {"type": "text", "text": "abc123", "marks": [{"type": "code"}]}
            ]}
        ]});
        assert_eq!(plain_text(&adf), "Broke after abc123");
        assert_eq!(
            plain_text(&json!("Main order flow broken")),
            "Main order flow broken"
        );
    }

    #[test]
    fn components_and_labels_feed_the_mapping() {
        let fields = json!({
            "components": [{"name": "Checkout"}, {"name": "Cart"}],
            "labels": ["team-web", 3],
            "customfield_1": {"value": "payments"}
        });
        let map = fields.as_object().cloned().unwrap_or_default();
        let view = View(&map);
        assert_eq!(view.components(), ["Checkout", "Cart"]);
        assert_eq!(view.labels(), ["team-web"]);
        assert_eq!(view.field("customfield_1").as_deref(), Some("payments"));
        assert_eq!(view.field("missing"), None);
    }
}
