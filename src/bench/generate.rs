//! `bench generate`: a year of a synthetic organisation at a chosen scale, written
//! as the input files `northstar import` reads, plus `manifest.json` listing them.
//!
//! The rows come from the demo's generators (same teams, habits, link styles and
//! bill), run with more team generations, more resources and larger desk volumes,
//! and streamed to CSV per service or per day: memory stays bounded whatever the
//! scale. Everything is drawn from fixed PRNG streams, so a scale's files are the
//! same bytes on every run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::commitments::Commitments;
use super::csv_out::{Layout, TableFiles};
use super::delivery_csv::{DeliveryCsv, Table};
use super::focus_csv::FocusCsv;
use super::scale::{Params, Scale};
use crate::demo::billing::each_cost_row;
use crate::demo::catalog::{Svc, catalog_of, service_cells};
use crate::demo::clock::Clock;
use crate::demo::delivery::Lane;
use crate::demo::random::Rng;
use crate::demo::replay::Replay;
use crate::demo::service_desk::{Desk, each_platform_action, each_ticket};
use crate::demo::{DEMO_END, DEMO_START};
use crate::error::{Error, Result};

/// The manifest's file name inside the inputs folder.
pub const MANIFEST: &str = "manifest.json";

/// What `bench generate` wrote: the inputs of one scale.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// The scale generated.
    pub scale: Scale,
    /// Start of the history (inclusive), RFC 3339.
    pub from: String,
    /// End of the history (exclusive), RFC 3339.
    pub to: String,
    /// Per import target, in import order (`costs` last).
    pub tables: Vec<TableFiles>,
}

impl Manifest {
    /// Reads `dir/manifest.json`, if there is one.
    pub fn load(dir: &Path) -> Result<Option<Manifest>> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::Io { path, source }),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::encode(path.display().to_string(), e))
    }

    /// Rows of one import target (0 when absent).
    pub fn rows(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|t| t.table == table)
            .map_or(0, |t| t.rows)
    }
}

/// Writes the inputs of `scale` into `out` (plain or gzipped CSV).
pub fn generate(scale: Scale, out: &Path, gzip: bool) -> Result<Manifest> {
    let started = Instant::now();
    let params = scale.params();
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let layout = Layout {
        dir: out.to_path_buf(),
        gzip,
        chunk_rows: params.chunk_rows,
    };
    let clock = Clock::new();
    let svcs = organisation(&params, &clock);
    let mut tables = vec![services(&layout, &svcs)?];
    tables.extend(delivery(&layout, &svcs, &clock)?);
    tables.extend(service_desk(&layout, &svcs, &clock, &params)?);
    tables.push(bill(&layout, &svcs, &clock, &params)?);
    let manifest = Manifest {
        scale,
        from: DEMO_START.into(),
        to: DEMO_END.into(),
        tables,
    };
    write_manifest(out, &manifest)?;
    tracing::info!(
        scale = scale.label(),
        seconds = started.elapsed().as_secs_f64(),
        "Generated the bench inputs."
    );
    Ok(manifest)
}

/// The catalog: the demo's teams, `generations` times over, deploying more often
/// and in larger batches.
fn organisation(params: &Params, clock: &Clock) -> Vec<Svc> {
    let mut svcs = catalog_of(&mut Rng::new(11), clock, params.generations);
    for s in &mut svcs {
        s.profile.batch *= params.batch_factor;
        s.profile.rate *= params.rate_factor;
    }
    svcs.into_iter().step_by(params.service_step).collect()
}

fn services(layout: &Layout, svcs: &[Svc]) -> Result<TableFiles> {
    let mut file = Table::new(layout, "services")?;
    for s in svcs.iter().filter(|s| s.catalogued) {
        file.write(service_cells(s))?;
    }
    file.finish()
}

/// Deployments (with previews), commits, pull requests and incidents, service by
/// service.
fn delivery(layout: &Layout, svcs: &[Svc], clock: &Clock) -> Result<Vec<TableFiles>> {
    let mut sink = DeliveryCsv::new(layout, clock.end)?;
    let mut rng = Rng::new(12);
    // One replay for all services: its counters keep ids and shas unique.
    let mut replay = Replay::new(&mut sink, "bench");
    replay.previews = true;
    for svc in svcs {
        Lane::new(&mut rng, &mut replay, svc, clock).replay();
        replay.sink.check()?;
    }
    sink.finish()
}

fn service_desk(
    layout: &Layout,
    svcs: &[Svc],
    clock: &Clock,
    params: &Params,
) -> Result<Vec<TableFiles>> {
    let desk = Desk {
        source: "bench",
        volume: params.desk_volume,
    };
    let mut teams: Vec<&str> = svcs.iter().map(|s| s.team_name.as_str()).collect();
    teams.dedup();
    let mut tickets = Table::new(layout, "tickets")?;
    let mut moves = Table::new(layout, "ticket_transitions")?;
    let mut failed = Ok(());
    each_ticket(
        &mut Rng::new(13),
        clock,
        &teams,
        desk,
        |row, transitions| {
            if failed.is_ok() {
                failed = tickets
                    .write(row)
                    .and_then(|()| transitions.into_iter().try_for_each(|t| moves.write(t)));
            }
        },
    );
    failed?;
    let mut actions = Table::new(layout, "platform_actions")?;
    let mut failed = Ok(());
    each_platform_action(&mut Rng::new(14), svcs, clock, desk, |row| {
        if failed.is_ok() {
            failed = actions.write(row);
        }
    });
    failed?;
    Ok(vec![tickets.finish()?, moves.finish()?, actions.finish()?])
}

/// The FOCUS bill, day by day, with commitment lines, one file per month.
fn bill(layout: &Layout, svcs: &[Svc], clock: &Clock, params: &Params) -> Result<TableFiles> {
    let mut files = FocusCsv::new(layout);
    let mut commitments = Commitments::default();
    let mut failed = Ok(());
    each_cost_row(
        &mut Rng::new(15),
        svcs,
        clock,
        params.bill,
        |line, mut row| {
            let due = commitments.apply(line, &mut row);
            if failed.is_ok() {
                failed = due
                    .into_iter()
                    .chain([row])
                    .try_for_each(|r| files.write(r));
            }
        },
    );
    failed?;
    for row in commitments.finish() {
        files.write(row)?;
    }
    files.finish()
}

fn write_manifest(out: &Path, manifest: &Manifest) -> Result<()> {
    let path: PathBuf = out.join(MANIFEST);
    let text = serde_json::to_string_pretty(manifest).map_err(|e| Error::encode(MANIFEST, e))?;
    std::fs::write(&path, text).map_err(|source| Error::Io { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::{Defaults, Format, read_file};

    /// The generated bill reads back through northstar's own FOCUS reader: every
    /// line, nothing rejected or normalised, detected as FOCUS 1.2, with the
    /// commitment lines and the team/service tags the allocation rules need.
    #[test]
    fn generated_focus_csv_passes_the_focus_reader() {
        let tmp = tempfile::tempdir().unwrap();
        let params = Scale::Tiny.params();
        let layout = Layout {
            dir: tmp.path().to_path_buf(),
            gzip: false,
            chunk_rows: params.chunk_rows,
        };
        let clock = Clock::new();
        let svcs = organisation(&params, &clock);
        let written = bill(&layout, &svcs, &clock, &params).unwrap();
        assert_eq!(written.files.len(), 12);
        let mut rows = 0;
        let mut statuses = std::collections::BTreeSet::new();
        let mut tagged = 0;
        for f in &written.files {
            let file = read_file(&tmp.path().join(f), None, &Defaults::new()).unwrap();
            assert_eq!(file.format, Format::Focus, "{f}");
            assert_eq!(file.focus_version, Some("1.2"), "{f}");
            assert!(file.rejected.is_empty(), "{f}: {:?}", file.rejected.first());
            assert!(file.notes.is_empty(), "{f}: {:?}", file.notes);
            rows += file.rows.len() as u64;
            for (_, row) in &file.rows {
                let status = row.text("CommitmentDiscountStatus").unwrap_or("-");
                statuses.insert((
                    row.text("ChargeCategory").map(str::to_string),
                    status.to_string(),
                ));
                tagged += usize::from(row.text("Tags").is_some_and(|t| t.contains("\"team\"")));
            }
        }
        assert_eq!(rows, written.rows);
        for expected in [
            ("Usage", "Used"),
            ("Usage", "Unused"),
            ("Purchase", "-"),
            ("Usage", "-"),
        ] {
            let key = (Some(expected.0.to_string()), expected.1.to_string());
            assert!(
                statuses.contains(&key),
                "no {expected:?} line in {statuses:?}"
            );
        }
        assert!(tagged as u64 * 2 > rows, "{tagged} of {rows} lines tagged");
    }
}
