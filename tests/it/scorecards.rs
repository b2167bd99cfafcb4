//! Service scorecards on the North Star fixture (`fixtures/north_star/`, described in
//! `north_star.rs`): window 2024-03-04 to 2024-03-18, evaluated at 03-18 00:00.
//!
//! Rules: bronze `owned` (owner_set) and `recent` (deployed_within_days 7); silver
//! `cfr` (change_failure_rate_below 0.5); gold `lead` (lead_time_median_hours_below 12).
//!
//! | service | last prod deployment → days | CFR | median lead | level |
//! |---|---|---|---|---|
//! | api | D3R 03-11 14:00 → 6.42 ✓ | D3 of D1 D2 D3 D3R: 0.25 ✓ | 4, 10, 24 h → 10 ✓ | gold |
//! | web | D4 03-06 10:00 → 11.58 ✗ | 0 ✓ | none ✗ | none (fails a bronze rule, passes silver) |
//! | batch | D5 03-12 09:00 → 5.63 ✓ | 0 ✓ | none ✗ | silver |
//! | new1 | D6 03-06 12:00 → 11.5 ✗ | 0 ✓ | none ✗ | none |
//! | new2 | D7 03-12 10:00 → 5.58 ✓ | 0 ✓ | none ✗ | silver |
//! | new3 | D11 at 03-18: not before → never ✗ | no deployment ✗ | ✗ | none |
//! | new4 | D8 03-14 06:00 → 3.75 ✓ | 0 ✓ | none ✗ | silver |
//! | late | never ✗ | ✗ | ✗ | none |
//!
//! Every catalog service has a team, so `owned` passes everywhere; `legacy` has no
//! catalog row and is not scored. Org: 8 services, 4 silver or better (0.5).

use northstar::config::Config;
use northstar::engine::Engine;
use northstar::history::record_results;
use northstar::report::metrics::compute;
use northstar::window::Window;
use serde_json::json;

use crate::support::{assert_close, day, north_star_lake, query};

const CONFIG: &str = r#"
[[scorecards.rules]]
id = "owned"
title = "Owner set"
level = "bronze"
check = "owner_set"

[[scorecards.rules]]
id = "recent"
title = "Deployed to production in the last 7 days"
level = "bronze"
check = "deployed_within_days"
threshold = 7

[[scorecards.rules]]
id = "cfr"
title = "Change failure rate below 50 %"
level = "silver"
check = "change_failure_rate_below"
threshold = 0.5

[[scorecards.rules]]
id = "lead"
title = "Median lead time below 12 h"
level = "gold"
check = "lead_time_median_hours_below"
threshold = 12
"#;

#[tokio::test]
async fn levels_need_every_rule_at_and_below_them() {
    let (_dir, lake) = north_star_lake().await;
    let config = Config::parse(CONFIG, "test").expect("config");
    let engine = Engine::open(&lake, &config.metrics).await.expect("engine");
    let window = Window {
        from: day("2024-03-04"),
        to: day("2024-03-18"),
    };
    let doc = compute(&engine, window, &config, day("2024-06-01"))
        .await
        .expect("compute");
    let cards = &doc["scorecards"];
    let levels: Vec<(String, String)> = cards["services"]
        .as_object()
        .expect("services")
        .iter()
        .map(|(s, c)| (s.clone(), c["level"].as_str().unwrap_or("?").to_string()))
        .collect();
    let expected = [
        ("api", "gold"),
        ("batch", "silver"),
        ("late", "none"),
        ("new1", "none"),
        ("new2", "silver"),
        ("new3", "none"),
        ("new4", "silver"),
        ("web", "none"),
    ];
    assert_eq!(
        levels,
        expected.map(|(s, l)| (s.to_string(), l.to_string()))
    );
    let web = &cards["services"]["web"]["rules"];
    assert_eq!(web["recent"]["passed"], false);
    assert_close(&web["recent"]["value"], 11.0 + 14.0 / 24.0);
    assert_eq!(web["cfr"]["passed"], true);
    let api = &cards["services"]["api"]["rules"];
    assert_close(&api["cfr"]["value"], 0.25);
    assert_close(&api["lead"]["value"], 10.0);
    assert_eq!(
        cards["services"]["new3"]["rules"]["recent"]["value"],
        json!(null)
    );
    assert_eq!(cards["org"]["n"], 8);
    assert_eq!(cards["org"]["silver_or_better"], 4);
    assert_close(&cards["org"]["share_silver_or_better"], 0.5);
    assert_eq!(
        cards["org"]["levels"],
        json!({"none": 4, "bronze": 0, "silver": 3, "gold": 1})
    );

    // Stored per service, rule and day; again the same day replaces.
    record_results(&lake, &doc).await.expect("store");
    record_results(&lake, &doc).await.expect("store again");
    let stored = query(
        &lake,
        "SELECT count(*) AS n, count(DISTINCT service) AS services FROM scorecard_results",
    )
    .await;
    assert_eq!(stored[0]["n"], 32);
    assert_eq!(stored[0]["services"], 8);
}
