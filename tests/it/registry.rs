//! The metric registry (`engine::queries`, built from the `queries/` headers) is the
//! one list of metrics: the JSON Schema and `docs/metrics.md` are checked against
//! it, and a DORA-style query added by the checklist in ARCHITECTURE.md reaches
//! `metrics.json`, Prometheus and Grafana with no Rust touched.

use northstar::engine::queries;
use serde_json::Value as Json;

use crate::support::{golden_lake, metrics, repo_root};

const BEGIN: &str = "<!-- registry:begin -->";
const END: &str = "<!-- registry:end -->";

/// The registry as the Markdown table in `docs/metrics.md`.
fn table() -> String {
    let mut out =
        String::from("| query | unit | grains | scopes | description |\n|---|---|---|---|---|\n");
    for q in queries::metrics() {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            q.id,
            q.unit(),
            q.get("grains").unwrap_or_default(),
            q.get("scopes").unwrap_or_default(),
            q.description().replace('|', "\\|")
        ));
    }
    out
}

#[test]
fn docs_list_every_registered_metric() {
    let path = repo_root().join("docs/metrics.md");
    let text = std::fs::read_to_string(&path).expect("docs/metrics.md");
    let (head, rest) = text.split_once(BEGIN).expect("registry:begin marker");
    let (_, tail) = rest.split_once(END).expect("registry:end marker");
    let want = format!("{head}{BEGIN}\n{}{END}{tail}", table());
    if std::env::var_os("NORTHSTAR_BLESS").is_some() {
        std::fs::write(&path, &want).expect("write docs/metrics.md");
        return;
    }
    assert!(
        text == want,
        "docs/metrics.md's registry table is out of date: NORTHSTAR_BLESS=1 cargo test --test it registry"
    );
    // Each DORA and North Star metric is also defined in prose, in a table row.
    for q in queries::metrics().filter(|q| q.folder != "cost") {
        assert!(
            text.contains(&format!("| `{}` |", q.name)),
            "docs/metrics.md defines no `{}` (add a row to its folder's table)",
            q.id
        );
    }
}

/// `$defs.metrics` lists exactly the DORA queries, and each one's `$defs` entry
/// requires what an empty group holds (`n`, `low_sample`, `-- empty_zero:`,
/// `-- empty_null:`).
#[test]
fn the_schema_defines_every_dora_metric() {
    let schema: Json = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schemas/metrics.schema.json")).expect("schema"),
    )
    .expect("json");
    let defs = &schema["$defs"];
    let names: Vec<&str> = queries::folder("dora").map(|q| q.name).collect();
    assert_eq!(
        defs["metrics"]["required"],
        serde_json::json!(names),
        "schemas/metrics.schema.json: $defs.metrics.required must list queries/dora/ in order"
    );
    for q in queries::folder("dora") {
        assert_eq!(
            defs["metrics"]["properties"][q.name]["$ref"],
            format!("#/$defs/{}", q.name)
        );
        let required = defs[q.name]["required"]
            .as_array()
            .unwrap_or_else(|| panic!("schema: no $defs.{}.required", q.name));
        for field in ["n", "low_sample"]
            .into_iter()
            .chain(q.items("empty_zero"))
            .chain(q.items("empty_null"))
        {
            assert!(
                required.iter().any(|r| r == field),
                "schema: $defs.{}.required lacks `{field}`",
                q.name
            );
        }
    }
}

/// Every DORA query's figures reach `metrics.json` (org, teams, series) and every
/// `-- gauge:` a Prometheus family, with nothing but the header to say so.
#[tokio::test]
async fn each_dora_query_reaches_the_json_and_prometheus() {
    let (_dir, lake) = golden_lake().await;
    let doc = metrics(&lake, "2024-03-04", "2024-03-18").await;
    let text = northstar::serve::prometheus::exposition(&doc, crate::support::day("2024-03-18"));
    for q in queries::folder("dora") {
        let org = &doc["dora"]["org"][q.name];
        assert!(org["n"].is_number(), "{} not in dora.org", q.id);
        let headline = q.get("headline").unwrap_or_default();
        assert!(org.get(headline).is_some(), "{}: no `{headline}`", q.id);
        assert!(doc["dora"]["series"]["month"]["org"][0][q.name].is_object());
        for gauge in q.all("gauge") {
            let name = gauge.split(' ').nth(1).unwrap_or_default();
            assert!(
                text.contains(&format!("# TYPE {name} gauge")),
                "{}: no Prometheus family {name}",
                q.id
            );
        }
    }
}

/// ARCHITECTURE.md's checklist "Add a dashboard panel", followed by hand: a
/// dashboard file in a `dashboards/` folder with one panel over a registered query
/// is loaded beside the shipped ones and drawn, with no Rust and no rebuild.
#[tokio::test]
async fn a_dashboard_panel_is_a_few_lines_of_toml() {
    use northstar::config::{Config, MetricSettings};
    use northstar::engine::Engine;
    use northstar::report::access::{Access, service_owners};
    use northstar::report::chart::Figure;
    use northstar::report::dashboard::{self, Sources};
    use northstar::window::Window;

    let dir = tempfile::tempdir().expect("tmp");
    crate::support::write_file(
        dir.path(),
        "rework.toml",
        r#"title = "Rework"
[[panel]]
id = "rework-by-team"
title = "Rework rate per team"
kind = "bar"
query = "dora/rework_rate"
params = { scope = "team", grain = "window" }
x = "scope_key"
y = ["rate"]
unit = "ratio"
"#,
    );
    let all = dashboard::load(Some(dir.path())).expect("load");
    let spec = all
        .iter()
        .find(|d| d.name == "rework")
        .expect("the new dashboard");
    assert!(all.len() > 1, "the shipped dashboards stay");

    let (_lake_dir, lake) = golden_lake().await;
    let engine = Engine::open(&lake, &MetricSettings::default())
        .await
        .expect("engine");
    let window = Window {
        from: crate::support::day("2024-03-04"),
        to: crate::support::day("2024-03-18"),
    };
    let config = Config::default();
    let doc = metrics(&lake, "2024-03-04", "2024-03-18").await;
    let owners = service_owners(&engine).await.expect("owners");
    let sources = Sources {
        engine: &engine,
        metrics: &doc,
        window,
        config: &config,
        owners: &owners,
    };
    let rendered = dashboard::render(spec, &sources, &Access::Platform)
        .await
        .expect("render");
    let panel = &rendered.panels[0];
    assert_eq!(panel.id, "rework-by-team");
    assert!(
        !matches!(panel.figure, Figure::Empty(_)),
        "drew {:?}",
        panel.figure
    );
    assert!(panel.rows.iter().any(|r| r["scope_key"] == "core"));
    assert!(panel.svg.contains("<svg"));
}
