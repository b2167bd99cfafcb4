//! `Lake::write_changed` at collector scale: 200k commit rows stored in 200 files
//! (one per collected stream), then re-collecting them all unchanged, and then a
//! small incremental batch — the cost a `collect` run pays to write nothing twice.
//!
//! Run with `cargo bench --bench lake_write`. Prints wall times; no criterion.

use std::time::Instant;

use northstar::lake::Lake;
use northstar::lake::batch::Value;
use northstar::lake::tables::table;

const FILES: usize = 200;
const ROWS_PER_FILE: usize = 1_000;

fn commit(i: usize) -> Vec<Value> {
    vec![
        Value::text(format!("acme/repo-{}", i % 50)),
        Value::text(format!("{i:040x}")),
        Value::TextList(vec![format!("{:040x}", i.saturating_sub(1))]),
        Value::Timestamp(1_700_000_000_000_000 + i as i64 * 60_000_000),
        Value::Timestamp(1_700_000_000_000_000 + i as i64 * 60_000_000),
        Value::text(format!("dev-{}", i % 300)),
        Value::Bool(false),
        Value::Null,
        Value::Null,
        Value::Null,
    ]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let spec = table("commits")?;
        let lake = Lake::open_local(dir.path())?;
        let started = Instant::now();
        for f in 0..FILES {
            let rows = (f * ROWS_PER_FILE..(f + 1) * ROWS_PER_FILE).map(commit).collect();
            lake.write_changed(&spec, rows).await?;
        }
        println!(
            "first collection: {} rows in {FILES} writes: {:.2} s",
            FILES * ROWS_PER_FILE,
            started.elapsed().as_secs_f64()
        );
        for run in 1..=3 {
            let fresh = Lake::open_local(dir.path())?;
            let started = Instant::now();
            let mut written = 0;
            for f in 0..FILES {
                let rows = (f * ROWS_PER_FILE..(f + 1) * ROWS_PER_FILE).map(commit).collect();
                written += fresh.write_changed(&spec, rows).await?.total();
            }
            let all = started.elapsed().as_secs_f64();
            let started = Instant::now();
            let extra = (0..100).map(|i| commit(FILES * ROWS_PER_FILE + run * 100 + i)).collect();
            written += fresh.write_changed(&spec, extra).await?.total();
            println!(
                "re-collection {run} (new process): {FILES} unchanged writes {all:.2} s; then 100 new rows {:.3} s; {written} rows written",
                started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    })
}
