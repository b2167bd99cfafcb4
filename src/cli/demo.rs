//! `northstar demo [--out DIR]`: a synthetic organisation through the real pipeline.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use clap::Args;
use serde_json::Value as Json;

use crate::config::Config;
use crate::demo;
use crate::error::Result;
use crate::lake::Lake;
use crate::pipeline::{self, Computed};
use crate::report::json::write_atomically;
use crate::report::metrics::Section;
use crate::window::{Window, parse_instant};

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output folder: the demo lake goes to DIR/lake (unless --lake is given) and the
    /// metrics to DIR/metrics.json.
    #[arg(long, default_value = "northstar-demo")]
    pub out: PathBuf,
}

pub async fn run(args: DemoArgs, lake_flag: Option<&Path>, config: &Config) -> Result<()> {
    let started = Instant::now();
    let lake_dir = lake_flag.map_or_else(|| args.out.join("lake"), Path::to_path_buf);
    let lake = Lake::open_local(&lake_dir)?;
    let data = demo::generate()?;
    let written = demo::write(&lake, &data).await?;
    let window = Window {
        from: parse_instant("demo start", demo::DEMO_START)?,
        to: parse_instant("demo end", demo::DEMO_END)?,
    };
    let config = demo::goals::with_demo_goals(config)?;
    let Computed { engine, doc, .. } =
        pipeline::compute(&lake, &config, window, &Section::ALL, Utc::now()).await?;
    let out = args.out.join("metrics.json");
    write_atomically(&out, &doc)?;
    let report_dir = args.out.join("report");
    let pages =
        super::report::render_dashboards(&engine, &doc, window, &config, &[], &report_dir).await?;
    println!(
        "northstar demo: a synthetic organisation, {} to {}",
        demo::DEMO_START,
        demo::DEMO_END
    );
    for w in &written {
        println!("  {:<20} {:>7} rows", w.table, w.rows);
    }
    print_summary(&doc);
    print_goals(&doc);
    print_cost(&doc);
    println!("metrics: {}", out.display());
    println!(
        "dashboards ({}): open {}",
        pages.len(),
        report_dir.join("executive").join("index.html").display()
    );
    println!(
        "lake:    {} (try: northstar --lake {} query \"SELECT * FROM deployments LIMIT 5\")",
        lake_dir.display(),
        lake_dir.display()
    );
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The five org-level metrics with their tiers and sample sizes.
fn print_summary(doc: &Json) {
    let org = &doc["dora"]["org"];
    let num = |v: &Json| v.as_f64().map_or("n/a".to_string(), |f| format!("{f:.2}"));
    let pct = |v: &Json| {
        v.as_f64()
            .map_or("n/a".to_string(), |f| format!("{:.1}%", f * 100.0))
    };
    let tier = |v: &Json| v.as_str().unwrap_or("n/a").to_string();
    let df = &org["deployment_frequency"];
    let lt = &org["lead_time"];
    let cfr = &org["change_failure_rate"];
    let fdrt = &org["failed_deployment_recovery_time"];
    let rw = &org["rework_rate"];
    println!("org DORA metrics:");
    println!(
        "  deployment frequency      {} /day, median {} deploy days/week  tier {:<6} n={}",
        num(&df["per_day"]),
        num(&df["median_deploy_days_per_week"]),
        tier(&df["tier"]),
        df["n"]
    );
    println!(
        "  change lead time          median {} h, p90 {} h        tier {:<6} n={}",
        num(&lt["median_hours"]),
        num(&lt["p90_hours"]),
        tier(&lt["tier"]),
        lt["n"]
    );
    println!(
        "  change failure rate       {} ({} failed)                 tier {:<6} n={}",
        pct(&cfr["rate"]),
        cfr["failed"],
        tier(&cfr["tier"]),
        cfr["n"]
    );
    println!(
        "  failed deploy recovery    median {} h, p90 {} h, {} unresolved  tier {:<6} n={}",
        num(&fdrt["median_hours"]),
        num(&fdrt["p90_hours"]),
        fdrt["unresolved"],
        tier(&fdrt["tier"]),
        fdrt["n"]
    );
    println!(
        "  deployment rework rate    {} ({} rework)  n={}",
        pct(&rw["rate"]),
        rw["rework"],
        rw["n"]
    );
}

/// The North Star headline, each objective and key result with its status, and the
/// scorecard KPI.
fn print_goals(doc: &Json) {
    let headline = &doc["north_star"]["headline"];
    let figures: Vec<String> = headline
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| v.is_number() && k.as_str() != "n")
        .map(|(k, v)| format!("{k} {v:.3}", v = v.as_f64().unwrap_or_default()))
        .collect();
    println!(
        "North Star ({}): {}  n={}",
        headline["metric"].as_str().unwrap_or("?"),
        figures.join(", "),
        headline["n"]
    );
    let pct = |v: &Json| {
        v.as_f64()
            .map_or("n/a".to_string(), |f| format!("{:.0}%", f * 100.0))
    };
    println!(
        "OKRs (as of {}):",
        doc["okrs"]["as_of"].as_str().unwrap_or("?")
    );
    for o in doc["okrs"]["objectives"].as_array().into_iter().flatten() {
        println!(
            "  {:<40} progress {:>4} (expected {:>4})  {}",
            o["title"].as_str().unwrap_or("?"),
            pct(&o["progress"]),
            pct(&o["expected"]),
            o["status"].as_str().unwrap_or("?")
        );
        for kr in o["key_results"].as_array().into_iter().flatten() {
            println!(
                "    {:<52} {:>4}  {}",
                kr["title"].as_str().unwrap_or("?"),
                pct(&kr["progress"]),
                kr["status"].as_str().unwrap_or("?")
            );
        }
    }
    let org = &doc["scorecards"]["org"];
    println!(
        "scorecards: {} of {} services at silver or better ({})",
        org["silver_or_better"],
        org["n"],
        pct(&org["share_silver_or_better"])
    );
}

/// The org's cost in the window's last month, its change, the unallocated share,
/// the teams over budget and the anomaly count.
fn print_cost(doc: &Json) {
    let cost = &doc["cost"];
    let months = cost["org"]["months"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let Some(last) = months.last() else {
        println!("cost: no cost lines");
        return;
    };
    let money = |v: &Json| v.as_f64().map_or("n/a".to_string(), |f| format!("{f:.0}"));
    let pct = |v: &Json| {
        v.as_f64()
            .map_or("n/a".to_string(), |f| format!("{:+.1}%", f * 100.0))
    };
    println!(
        "cost {}: effective {} {} (billed {}), {} vs previous month, unallocated {:.1}%, {} per deployment  n={}",
        last["month"].as_str().unwrap_or("?"),
        money(&last["effective_cost"]),
        last["currency"].as_str().unwrap_or("?"),
        money(&last["billed_cost"]),
        pct(&last["mom_change_ratio"]),
        last["unallocated_share"].as_f64().unwrap_or_default() * 100.0,
        money(&last["cost_per_deployment"]),
        last["n"]
    );
    let month = last["month"].clone();
    let over: Vec<String> = cost["teams"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(team, t)| {
            let m = t["months"]
                .as_array()?
                .iter()
                .find(|m| m["month"] == month)?;
            (m["budget_status"] == "over").then(|| {
                format!(
                    "{team} ({} of {})",
                    money(&m["effective_cost"]),
                    money(&m["budget"])
                )
            })
        })
        .collect();
    println!(
        "  over budget: {}; {} cost anomalies flagged (see metrics.json cost.anomalies)",
        if over.is_empty() {
            "none".to_string()
        } else {
            over.join(", ")
        },
        cost["anomalies"].as_array().map_or(0, Vec::len)
    );
}
