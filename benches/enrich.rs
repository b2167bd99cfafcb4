//! Enrichment at scale: 1M commits, 100k production deployments, 10k incidents.
//!
//! Run with `cargo bench --bench enrich`. Prints wall time of the commit-graph walk
//! and incident linking (`northstar::enrich::enrich`), the part of `Engine::open`
//! that grows with history. No criterion: one deterministic input, built three times
//! (enrichment consumes it), three timed runs.

use std::time::Instant;

use northstar::enrich::commit_graph::GraphBuilder;
use northstar::enrich::{Deployment, Incident, Inputs, enrich};

const SERVICES: usize = 100;
const COMMITS_PER_SERVICE: usize = 10_000;
const DEPLOYS_PER_SERVICE: usize = 1_000;
const HOUR_US: i64 = 3_600_000_000;

fn inputs() -> Inputs {
    let mut inputs = Inputs {
        link_window_us: 7 * 24 * HOUR_US,
        ..Inputs::default()
    };
    let mut graph = GraphBuilder::default();
    for s in 0..SERVICES {
        let sha = |i: usize| format!("{s:04x}{i:036x}");
        for i in 0..COMMITS_PER_SERVICE {
            // A main line with a merge every 10 commits of a one-commit side branch.
            let parents = match i {
                0 => vec![],
                i if i % 10 == 0 && i >= 2 => vec![sha(i - 1), sha(i - 2)],
                i => vec![sha(i - 1)],
            };
            graph.add(&sha(i), parents.iter().map(String::as_str));
        }
        let step = COMMITS_PER_SERVICE / DEPLOYS_PER_SERVICE;
        for d in 0..DEPLOYS_PER_SERVICE {
            inputs.deployments.push(Deployment {
                id: format!("s{s}-d{d}"),
                service: format!("svc{s}"),
                sha: Some(sha(d * step + step - 1)),
                finished_at: (d as i64) * 6 * HOUR_US,
            });
        }
        for k in 0..DEPLOYS_PER_SERVICE / 10 {
            inputs.incidents.push(Incident {
                id: format!("s{s}-i{k}"),
                service: Some(format!("svc{s}")),
                started_at: (k as i64) * 60 * HOUR_US + HOUR_US,
                caused_by_deployment_id: None,
                caused_by_commit_sha: (k % 3 == 0).then(|| sha(k * 97 % COMMITS_PER_SERVICE)),
            });
        }
    }
    inputs.graph = graph.finish();
    inputs
}

fn main() {
    for run in 1..=3 {
        let started = Instant::now();
        let inputs = inputs();
        println!(
            "input: {} commits, {} deployments, {} incidents (built in {:.2} s)",
            inputs.graph.len(),
            inputs.deployments.len(),
            inputs.incidents.len(),
            started.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let out = enrich(inputs);
        println!(
            "run {run}: {:.2} s — {} shipped-commit rows, {} incident links",
            t.elapsed().as_secs_f64(),
            out.shipped_len(),
            out.incident_links.len()
        );
    }
}
