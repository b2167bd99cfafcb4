//! Billing at scale: reading a 200k-line FOCUS CSV through the reader (parse,
//! normalise, check: no lake write), and allocating 1M cost lines with four
//! rules (a tag rule, an account rule, a proportional and an even split).
//!
//! Run with `cargo bench --bench billing`. Prints wall time; no criterion: one
//! deterministic input, three runs.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::Instant;

use northstar::billing::{Defaults, read_file};
use northstar::config::Pattern;
use northstar::config::cost::{AllocationRule, SplitMethod};
use northstar::enrich::cost_allocation::{CostLine, allocate};

const CSV_LINES: usize = 200_000;
const ALLOCATED_LINES: usize = 1_000_000;
const TEAMS: usize = 20;

fn write_focus_csv(path: &std::path::Path) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(
        out,
        "BilledCost,EffectiveCost,ListCost,BillingCurrency,BillingAccountId,BillingPeriodStart,\
         BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ChargeFrequency,\
         ProviderName,PublisherName,InvoiceIssuerName,ServiceName,ServiceCategory,ResourceId,Tags"
    )
    .expect("write");
    for i in 0..CSV_LINES {
        let day = 1 + i % 28;
        writeln!(
            out,
            "{c:.4},{e:.4},{l:.4},USD,1234,2026-09-01T00:00:00Z,2026-10-01T00:00:00Z,\
             2026-09-{day:02}T00:00:00Z,2026-09-{next:02}T00:00:00Z,Usage,Usage-Based,AWS,AWS,\
             \"Amazon Web Services, Inc.\",Amazon EC2,Compute,arn:aws:ec2:i-{i},\
             \"{{\"\"team\"\":\"\"t{t}\"\",\"\"service\"\":\"\"s{i7}\"\"}}\"",
            c = (i % 997) as f64 / 10.0,
            e = (i % 997) as f64 / 12.0,
            l = (i % 997) as f64 / 9.0,
            next = day + 1,
            t = i % TEAMS,
            i7 = i % 70,
        )
        .expect("write");
    }
}

fn rules() -> Vec<AllocationRule> {
    vec![
        AllocationRule {
            name: "platform account".into(),
            accounts: vec![glob("999*")],
            team: Some("platform".into()),
            ..AllocationRule::default()
        },
        AllocationRule {
            name: "team tag".into(),
            team_tag: Some("team".into()),
            service_tag: Some("service".into()),
            ..AllocationRule::default()
        },
        AllocationRule {
            name: "network".into(),
            cloud_services: vec![glob("Amazon Virtual Private Cloud")],
            split: Some(SplitMethod::Proportional),
            ..AllocationRule::default()
        },
        AllocationRule {
            name: "monitoring".into(),
            cloud_services: vec![glob("Amazon CloudWatch")],
            split: Some(SplitMethod::Even),
            ..AllocationRule::default()
        },
    ]
}

fn lines() -> Vec<CostLine> {
    (0..ALLOCATED_LINES)
        .map(|i| {
            let shared = [
                "Amazon Virtual Private Cloud",
                "Amazon CloudWatch",
                "Amazon EC2",
            ][i % 3];
            CostLine {
                line_id: format!("l{i}"),
                day: (i % 365) as i64,
                currency: "USD".into(),
                effective_cost: (i % 1000) as f64 / 10.0,
                provider: "AWS".into(),
                account: if i % 50 == 0 {
                    "9990".into()
                } else {
                    "1234".into()
                },
                cloud_service: Some(shared.into()),
                tags: (shared == "Amazon EC2")
                    .then(|| format!(r#"{{"team":"t{}","service":"s{}"}}"#, i % TEAMS, i % 70)),
                ..CostLine::default()
            }
        })
        .collect()
}

fn main() {
    let dir = std::env::temp_dir().join("northstar-bench-billing");
    std::fs::create_dir_all(&dir).expect("dir");
    let csv = dir.join("focus.csv");
    write_focus_csv(&csv);
    for run in 1..=3 {
        let started = Instant::now();
        let file = read_file(&csv, None, &Defaults::new()).expect("read");
        let secs = started.elapsed().as_secs_f64();
        println!(
            "read {} FOCUS lines (run {run}): {secs:.2} s, {:.0} lines/s",
            file.rows.len(),
            file.rows.len() as f64 / secs
        );
    }
    let lines = lines();
    let owners: HashMap<String, String> = (0..70)
        .map(|s| (format!("s{s}"), format!("t{}", s % TEAMS)))
        .collect();
    let rules = rules();
    for run in 1..=3 {
        let started = Instant::now();
        let out = allocate(&lines, &rules, &owners);
        let secs = started.elapsed().as_secs_f64();
        let methods: BTreeMap<&str, usize> = out.iter().fold(BTreeMap::new(), |mut m, a| {
            *m.entry(a.method).or_default() += 1;
            m
        });
        println!(
            "allocate {} lines → {} rows {methods:?} (run {run}): {secs:.2} s",
            lines.len(),
            out.len()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A compiled glob of the bench's own rules.
fn glob(text: &str) -> Pattern {
    Pattern::new(text).expect("the bench's globs compile")
}
