//! Values of the config that are compiled when it loads, so a mistake fails the
//! load with the key that holds it and collectors use them as they are: globs
//! ([`Pattern`]) and ticket field references ([`FieldRef`]).

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// A glob (`*` any text, `?` one character, `[abc]` a class), compiled once at load.
/// Displays as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(glob::Pattern);

impl Pattern {
    /// Compiles `text`; the error is the reason, for the caller to put under its key.
    pub fn new(text: &str) -> Result<Pattern, String> {
        glob::Pattern::new(text)
            .map(Pattern)
            .map_err(|e| format!("bad pattern `{text}`: {e}"))
    }

    /// Whether the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        self.0.matches(text)
    }

    /// The glob as written.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The text before the first wildcard (`svc-` of `svc-*`).
    pub fn literal_prefix(&self) -> &str {
        let text = self.as_str();
        let end = text.find(['*', '?', '[']).unwrap_or(text.len());
        &text[..end]
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Pattern::new(&text).map_err(D::Error::custom)
    }
}

/// Where a ticket value comes from: `field:<id>`, `component` or `label:<glob>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldRef {
    /// A named field of the record (`field:<id>`).
    Field(String),
    /// The record's first component (Jira).
    Component,
    /// The first label matching the glob, with the glob's literal prefix removed.
    Label(Pattern),
}

impl FieldRef {
    /// Parses `field:<id>`, `component` or `label:<glob>`; the error is the reason.
    pub fn parse(text: &str) -> Result<FieldRef, String> {
        if text == "component" {
            return Ok(FieldRef::Component);
        }
        if let Some(id) = text.strip_prefix("field:").filter(|f| !f.is_empty()) {
            return Ok(FieldRef::Field(id.to_string()));
        }
        if let Some(glob) = text.strip_prefix("label:").filter(|g| !g.is_empty()) {
            return Pattern::new(glob).map(FieldRef::Label);
        }
        Err(format!(
            "`{text}`: expected `field:<id>`, `component` or `label:<glob>`"
        ))
    }

    /// The field id of a `field:<id>` reference (a field a collector must request).
    pub fn field_id(&self) -> Option<&str> {
        match self {
            FieldRef::Field(id) => Some(id),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for FieldRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        FieldRef::parse(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_matches_displays_as_written_and_knows_its_literal_prefix() {
        let p = Pattern::new("svc-*").unwrap();
        assert!(p.matches("svc-checkout") && !p.matches("checkout"));
        assert_eq!(
            (p.to_string().as_str(), p.literal_prefix()),
            ("svc-*", "svc-")
        );
        assert!(
            Pattern::new("db[*")
                .unwrap_err()
                .starts_with("bad pattern `db[*`")
        );
    }

    #[test]
    fn field_references_parse_each_form_and_reject_the_rest() {
        assert_eq!(FieldRef::parse("component"), Ok(FieldRef::Component));
        assert_eq!(FieldRef::parse("field:x"), Ok(FieldRef::Field("x".into())));
        let field_id = |t: &str| FieldRef::parse(t).unwrap().field_id().map(str::to_string);
        assert_eq!(field_id("field:x").as_deref(), Some("x"));
        assert_eq!(field_id("component"), None);
        let label = Pattern::new("svc-*").unwrap();
        assert_eq!(FieldRef::parse("label:svc-*"), Ok(FieldRef::Label(label)));
        for bad in ["field:", "label:", "customfield_1", "labels:x"] {
            assert!(
                FieldRef::parse(bad)
                    .unwrap_err()
                    .contains("expected `field:<id>`")
            );
        }
        assert!(
            FieldRef::parse("label:a[")
                .unwrap_err()
                .contains("bad pattern")
        );
    }
}
