//! `northstar check`: the config parses, the lake opens, and every query plans and
//! runs (over a one-day window, so it is quick on any lake); then, when the lake
//! holds cost lines, the FOCUS conformance report of `queries/focus/`.
//!
//! FOCUS violations are findings about the billing data, not a failed check: the
//! exit code stays 0 unless `--strict` asks for them to fail the run.

use chrono::{Duration, Utc};
use clap::Args;
use datafusion::scalar::ScalarValue;

use crate::config::Config;
use crate::engine::focus_checks::{self, ReaderNotes, RuleResult};
use crate::engine::{Engine, queries};
use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::lake::tables::all_tables;
use crate::window::{Window, params_for};

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Only the FOCUS conformance checks of the cost lines.
    #[arg(long)]
    pub focus_only: bool,
    /// Print the FOCUS rule results as a JSON array on stdout (other output goes to
    /// stderr).
    #[arg(long)]
    pub json: bool,
    /// Fail (exit 1) when a FOCUS rule has violations.
    #[arg(long)]
    pub strict: bool,
}

pub async fn run(args: CheckArgs, lake: &Lake, config: &Config) -> Result<()> {
    let mut engine = Engine::for_config(lake, config).await?;
    engine.load_custom(&config.custom_dir())?;
    // With --json, stdout carries the JSON document only.
    let say = |line: String| {
        if args.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    if !args.focus_only {
        check_queries(&engine, lake, config, &say).await?;
    }
    let has_costs = !lake.files("costs").await?.is_empty();
    let (results, notes) = if has_costs {
        (
            focus_checks::run(&engine).await?,
            focus_checks::reader_notes(&engine).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    if args.json {
        let text = serde_json::to_string_pretty(&results)
            .map_err(|e| Error::encode("FOCUS results", e))?;
        println!("{text}");
    } else if has_costs {
        print!("{}", focus_report(&results, &notes));
    } else if args.focus_only {
        println!("FOCUS conformance: the lake holds no cost lines");
    }
    let failed: Vec<&RuleResult> = results.iter().filter(|r| !r.passed()).collect();
    if args.strict && !failed.is_empty() {
        let violations: i64 = failed.iter().map(|r| r.violations).sum();
        return Err(Error::Conformance {
            failed: failed.len(),
            violations,
            first: failed[0].rule_id.clone(),
        });
    }
    Ok(())
}

/// The checks `check` always ran: tables, metric queries, custom metrics, scorecards.
async fn check_queries(
    engine: &Engine,
    lake: &Lake,
    config: &Config,
    say: &impl Fn(String),
) -> Result<()> {
    for spec in all_tables() {
        let files = lake.files(spec.name).await?;
        say(format!("table {:<20} {} file(s)", spec.name, files.len()));
    }
    let to = Utc::now();
    let window = Window {
        from: to - Duration::days(1),
        to,
    };
    for id in queries::metric_ids() {
        engine
            .run_query(id, &params_for(window, config, "org", "window"))
            .await?;
        say(format!("query {id}: ok"));
    }
    for metric in engine.custom_metrics() {
        let id = metric.id();
        engine
            .run_query(&id, &params_for(window, config, "org", "window"))
            .await?;
        say(format!("query {id}: ok"));
    }
    for check in queries::folder("scorecards") {
        let (check, sql) = (check.name, check.sql);
        let mut p = params_for(window, config, "service", "window");
        p.insert("threshold".into(), ScalarValue::Float64(Some(0.0)));
        engine.execute(check, sql, &p).await?;
        say(format!("scorecard check {check}: ok"));
    }
    say(format!(
        "config: {} source(s); all checks passed",
        config.sources.len()
    ));
    Ok(())
}

/// The FOCUS report: per family, one line per rule; then what the readers
/// normalised per file; then the totals.
pub fn focus_report(results: &[RuleResult], notes: &[ReaderNotes]) -> String {
    let mut out = String::from("FOCUS conformance of the current cost lines\n");
    let mut family = "";
    for r in results {
        if r.family != family {
            family = &r.family;
            out.push_str(&format!("{family}\n"));
        }
        let verdict = if r.passed() { "PASS" } else { "FAIL" };
        out.push_str(&format!(
            "  {verdict} {} {}: {}/{}",
            r.rule_id, r.column, r.violations, r.checked
        ));
        if let (false, Some(example)) = (r.passed(), &r.example) {
            out.push_str(&format!(" (e.g. {} {example})", r.example_kind()));
        }
        out.push('\n');
    }
    if !notes.is_empty() {
        out.push_str("normalised by the reader (conformance findings fixed on import)\n");
        for file in notes {
            for note in &file.notes {
                out.push_str(&format!("  {}: {note}\n", file.file));
            }
        }
    }
    let failed = results.iter().filter(|r| !r.passed()).count();
    let violations: i64 = results.iter().map(|r| r.violations).sum();
    let note_count: usize = notes.iter().map(|f| f.notes.len()).sum();
    out.push_str(&format!(
        "FOCUS: {} rule(s), {} passed, {failed} failed ({violations} violation(s)); \
         {note_count} normalisation(s)\n",
        results.len(),
        results.len() - failed,
    ));
    out
}
