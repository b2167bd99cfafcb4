//! A deterministic synthetic organisation for `northstar demo`.
//!
//! Eight teams with deliberately different delivery habits (elite daily deployers
//! down to a monthly one), their services, commit graphs, incidents, infra tickets,
//! platform self-service actions and a year of FOCUS billing. Everything flows from
//! one fixed seed through a PRNG defined here, so the demo (and every figure the
//! docs quote from it) never changes when a dependency is upgraded.
//!
//! The rows go through the same [`Lake::write_rows`] path as an
//! import, so the demo also exercises the whole pipeline. The generators are
//! parametrised (more team generations, more resources, rows streamed to a sink)
//! so that [`crate::bench`] builds its larger organisations from the same code.

pub(crate) mod billing;
pub(crate) mod catalog;
pub(crate) mod clock;
pub(crate) mod delivery;
pub mod goals;
pub(crate) mod random;
pub(crate) mod replay;
pub(crate) mod service_desk;

use crate::billing::import::store;
use crate::billing::row::{self, CostRow, FieldError, Notes};
use crate::billing::{BillingFile, Format};
use crate::error::{Error, Result};
use crate::lake::batch::Value;
use crate::lake::tables::FOCUS_COLUMNS;
use crate::lake::{Lake, WriteSummary, short_sha256, tables};
use billing::costs;
use catalog::{catalog, service_rows};
use clock::Clock;
use delivery::delivery;
use random::Rng;
use replay::incident_rows;
use service_desk::{platform_actions, tickets};

/// Rows for every canonical table, each row in the table's column order.
#[derive(Debug, Clone)]
pub struct DemoData {
    /// `(table name, rows)`, in the order the tables are written.
    pub tables: Vec<(&'static str, Vec<Vec<Value>>)>,
    /// A year of daily FOCUS cost lines, stored as one billing import.
    pub costs: Vec<CostRow>,
}

/// Fixed history: 12 months ending at DEMO_END (exclusive).
pub const DEMO_START: &str = "2025-11-01T00:00:00Z";
/// End of the demo history (exclusive).
pub const DEMO_END: &str = "2026-11-01T00:00:00Z";

const SEED: u64 = 0x6e6f_7274_6873_7461;

/// The whole synthetic organisation; each section draws from its own PRNG stream.
pub fn generate() -> Result<DemoData> {
    let clock = Clock::new();
    let svcs = catalog(&mut Rng::new(1), &clock);
    let delivery = delivery(&mut Rng::new(2), &svcs, &clock)?;
    let (tickets, transitions) = tickets(&mut Rng::new(3), &clock)?;
    Ok(DemoData {
        tables: vec![
            ("services", service_rows(&svcs)?),
            ("deployments", delivery.deployments),
            ("commits", delivery.commits),
            ("incidents", incident_rows(delivery.incidents, clock.end)?),
            ("tickets", tickets),
            ("ticket_transitions", transitions),
            (
                "platform_actions",
                platform_actions(&mut Rng::new(4), &svcs, &clock)?,
            ),
        ],
        costs: costs(&mut Rng::new(5), &svcs, &clock),
    })
}

/// Writes every table through the lake writer (one `lake.write` per table).
pub async fn write(lake: &Lake, data: &DemoData) -> Result<Vec<WriteSummary>> {
    let mut summaries = Vec::with_capacity(data.tables.len());
    for (name, rows) in &data.tables {
        let spec = tables::table(name)?;
        summaries.push(lake.write_rows(&spec, rows).await?);
    }
    let mut notes = Notes::new();
    let rows = data
        .costs
        .iter()
        .enumerate()
        .map(|(i, r)| Ok((i as u64 + 1, row::finish(r.clone(), &mut notes)?)))
        .collect::<std::result::Result<Vec<_>, FieldError>>()
        .map_err(|e| Error::encode("demo costs", format!("{}: {}", e.field, e.reason)))?;
    let file = BillingFile {
        file: "demo-focus-1.2.csv".into(),
        sha256: short_sha256(format!("{:?}", rows.len()).as_bytes(), 32),
        format: Format::Focus,
        focus_version: Some("1.2"),
        columns: FOCUS_COLUMNS.iter().map(|(c, _)| c.to_string()).collect(),
        lines: rows.len(),
        rows,
        rejected: Vec::new(),
        notes,
    };
    let stored = store(lake, vec![file], false).await?;
    summaries.push(WriteSummary {
        table: "costs".into(),
        rows: stored.written.total(),
        files: vec!["costs/ (one import per billing period)".into()],
    });
    Ok(summaries)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::delivery::PROD;
    use super::*;
    use crate::lake::batch::BatchBuilder;

    fn rows<'a>(data: &'a DemoData, table: &str) -> &'a [Vec<Value>] {
        let found = data.tables.iter().find(|(t, _)| *t == table);
        found.map_or(&[], |(_, r)| r)
    }

    fn text(v: &Value) -> &str {
        if let Value::Text(s) = v { s } else { "" }
    }

    #[test]
    fn generation_is_deterministic() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        let counts = |d: &DemoData| {
            d.tables
                .iter()
                .map(|(t, r)| (*t, r.len()))
                .collect::<Vec<_>>()
        };
        assert_eq!(counts(&a), counts(&b));
        let (da, db) = (rows(&a, "deployments"), rows(&b, "deployments"));
        assert!(!da.is_empty());
        assert_eq!((da.first(), da.last()), (db.first(), db.last()));
    }

    #[test]
    fn rows_fit_their_tables() {
        for (name, table_rows) in generate().unwrap().tables {
            let spec = tables::table(name).unwrap();
            let mut builder = BatchBuilder::new(&spec);
            for row in &table_rows {
                assert_eq!(row.len(), spec.columns.len(), "{name}");
                for (value, col) in row.iter().zip(&spec.columns) {
                    assert!(
                        !col.required || *value != Value::Null,
                        "{name}.{}",
                        col.name
                    );
                    let allowed = col.allowed.is_empty() || col.allowed.contains(&text(value));
                    assert!(
                        allowed || *value == Value::Null,
                        "{name}.{}: {value:?}",
                        col.name
                    );
                }
                builder.push(row).unwrap();
            }
        }
    }

    #[test]
    fn production_deployments_ship_known_commits() {
        let data = generate().unwrap();
        let shas: HashSet<&str> = rows(&data, "commits").iter().map(|r| text(&r[1])).collect();
        let deployments = rows(&data, "deployments");
        let prod: Vec<_> = deployments.iter().filter(|r| text(&r[5]) == PROD).collect();
        assert!(prod.len() > 5000, "{} production deployments", prod.len());
        for d in prod {
            assert!(
                shas.contains(text(&d[7])),
                "{:?} ships an unknown commit",
                d[0]
            );
        }
    }
}
