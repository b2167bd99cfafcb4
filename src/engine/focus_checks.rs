//! FOCUS conformance checks over the current cost lines: the SQL in
//! `queries/focus/`, one file per family of rules, each returning one row per rule
//! (passed rules too) with how many lines or files it checked and how many broke it.
//!
//! Rule ids are those of the FOCUS validator's requirements model
//! (`focus_validator/rules/model-1.2.json`); a check the model does not have carries
//! an `-X-` id (`ChargePeriodStart-X-001-O`). Violations are findings about the data,
//! not failures of the run: callers decide what to do with them.

use serde::Serialize;

use super::{Engine, Params, columns, queries};
use crate::error::{Error, Result};

/// The query listing what the readers normalised; every other query of
/// `queries/focus/` is a rule family.
const READER_NOTES: &str = "focus/reader_notes";

/// The rule families, in report order (`-- order:`): name → SQL.
pub fn families() -> Vec<(&'static str, &'static str)> {
    queries::folder("focus")
        .filter(|q| q.id != READER_NOTES)
        .map(|q| (q.name, q.sql))
        .collect()
}

/// The outcome of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleResult {
    /// The family (`presence`, `nullability`, ...).
    pub family: String,
    /// The rule id, e.g. `BilledCost-C-003-M`.
    pub rule_id: String,
    /// The FOCUS column the rule is about.
    pub column: String,
    /// What the rule requires, in a sentence.
    pub requirement: String,
    /// Lines (presence and column-name rules: files) the rule applied to.
    pub checked: i64,
    /// How many of them break it.
    pub violations: i64,
    /// One that breaks it: a line id (`x_line_id`) or a file name.
    pub example: Option<String>,
}

impl RuleResult {
    /// Whether no checked line or file breaks the rule.
    pub fn passed(&self) -> bool {
        self.violations == 0
    }

    /// What [`RuleResult::example`] names: a `file` for the rules over files'
    /// columns, the grouped column for the one-to-one rules, else a `line`.
    pub fn example_kind(&self) -> &str {
        match self.rule_id.as_str() {
            _ if self.family == "presence" || self.rule_id.starts_with("ColumnHandling-") => "file",
            "ServiceName-C-005-C" | "SkuPriceId-C-008-M" => &self.column,
            _ => "line",
        }
    }
}

/// What the reader normalised in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReaderNotes {
    /// The file, as imported.
    pub file: String,
    /// Notes with their counts, e.g. `ChargeFrequency: 'Usage-based' read as 'Usage-Based' (3)`.
    pub notes: Vec<String>,
}

/// Runs every family of [`families`]; rules in family order, then as each file
/// orders them.
pub async fn run(engine: &Engine) -> Result<Vec<RuleResult>> {
    let mut results = Vec::new();
    for (family, sql) in families() {
        let label = format!("focus/{family}");
        for batch in engine.execute(&label, sql, &Params::new()).await? {
            let ids = columns::strings(&batch, "rule_id")?;
            let focus_columns = columns::strings(&batch, "focus_column")?;
            let requirements = columns::strings(&batch, "requirement")?;
            let checked = columns::ints(&batch, "checked")?;
            let violations = columns::ints(&batch, "violations")?;
            let examples = columns::strings(&batch, "example")?;
            for i in 0..batch.num_rows() {
                results.push(RuleResult {
                    family: (*family).to_string(),
                    rule_id: ids[i].clone().unwrap_or_default(),
                    column: focus_columns[i].clone().unwrap_or_default(),
                    requirement: requirements[i].clone().unwrap_or_default(),
                    checked: checked[i].unwrap_or(0),
                    violations: violations[i].unwrap_or(0),
                    example: examples[i].clone(),
                });
            }
        }
    }
    Ok(results)
}

fn reader_notes_sql() -> Result<&'static str> {
    queries::get(READER_NOTES)
        .map(|q| q.sql)
        .ok_or_else(|| Error::Usage(format!("no query `{READER_NOTES}` in queries/")))
}

/// The reader's normalisations of the files behind the current cost lines, by file.
pub async fn reader_notes(engine: &Engine) -> Result<Vec<ReaderNotes>> {
    let mut out = Vec::new();
    for batch in engine
        .execute(READER_NOTES, reader_notes_sql()?, &Params::new())
        .await?
    {
        let files = columns::strings(&batch, "file_name")?;
        let notes = columns::string_lists(&batch, "notes")?;
        for (file, notes) in files.into_iter().zip(notes) {
            out.push(ReaderNotes {
                file: file.unwrap_or_default(),
                notes,
            });
        }
    }
    Ok(out)
}
