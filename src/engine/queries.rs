//! The SQL in `queries/`, compiled into the binary so one file is all a user runs.
//!
//! A query's id is its path under `queries/` without `.sql`. Staging views are
//! registered in the order listed (later ones read earlier ones); metric queries
//! take named parameters (`$from`, `$to`, `$scope`, `$grain`, ...).

/// Views over the lake registered before enrichment (enrichment reads them).
pub const STAGING_BEFORE_ENRICH: &[(&str, &str)] = &[
    (
        "service_owners",
        include_str!("../../queries/staging/service_owners.sql"),
    ),
    (
        "prod_deployments",
        include_str!("../../queries/staging/prod_deployments.sql"),
    ),
    (
        "billing_lines",
        include_str!("../../queries/staging/billing_lines.sql"),
    ),
    (
        "pull_request_times",
        include_str!("../../queries/staging/pull_request_times.sql"),
    ),
];

/// Views that read the derived tables, registered after enrichment.
pub const STAGING_AFTER_ENRICH: &[(&str, &str)] = &[
    (
        "deployment_outcomes",
        include_str!("../../queries/staging/deployment_outcomes.sql"),
    ),
    (
        "lead_time_samples",
        include_str!("../../queries/staging/lead_time_samples.sql"),
    ),
    (
        "cost_lines",
        include_str!("../../queries/staging/cost_lines.sql"),
    ),
    (
        "team_daily_costs",
        include_str!("../../queries/staging/team_daily_costs.sql"),
    ),
    (
        "service_daily_costs",
        include_str!("../../queries/staging/service_daily_costs.sql"),
    ),
];

/// Metric queries by id.
pub const METRICS: &[(&str, &str)] = &[
    (
        "dora/deployment_frequency",
        include_str!("../../queries/dora/deployment_frequency.sql"),
    ),
    (
        "dora/lead_time",
        include_str!("../../queries/dora/lead_time.sql"),
    ),
    (
        "dora/change_failure_rate",
        include_str!("../../queries/dora/change_failure_rate.sql"),
    ),
    (
        "dora/failed_deployment_recovery_time",
        include_str!("../../queries/dora/failed_deployment_recovery_time.sql"),
    ),
    (
        "dora/rework_rate",
        include_str!("../../queries/dora/rework_rate.sql"),
    ),
    (
        "north_star/platform_adoption",
        include_str!("../../queries/north_star/platform_adoption.sql"),
    ),
    (
        "north_star/time_to_first_deployment",
        include_str!("../../queries/north_star/time_to_first_deployment.sql"),
    ),
    (
        "north_star/self_service_rate",
        include_str!("../../queries/north_star/self_service_rate.sql"),
    ),
    (
        "north_star/ticket_ops",
        include_str!("../../queries/north_star/ticket_ops.sql"),
    ),
    (
        "north_star/ticket_wait_time",
        include_str!("../../queries/north_star/ticket_wait_time.sql"),
    ),
    (
        "north_star/provisioning_lead_time",
        include_str!("../../queries/north_star/provisioning_lead_time.sql"),
    ),
    (
        "north_star/ephemeral_environments",
        include_str!("../../queries/north_star/ephemeral_environments.sql"),
    ),
    (
        "north_star/dora_score",
        include_str!("../../queries/north_star/dora_score.sql"),
    ),
    ("cost/costs", include_str!("../../queries/cost/costs.sql")),
    (
        "cost/month_over_month",
        include_str!("../../queries/cost/month_over_month.sql"),
    ),
    (
        "cost/forecast",
        include_str!("../../queries/cost/forecast.sql"),
    ),
    (
        "cost/budgets",
        include_str!("../../queries/cost/budgets.sql"),
    ),
    (
        "cost/anomalies",
        include_str!("../../queries/cost/anomalies.sql"),
    ),
    (
        "cost/unit_cost",
        include_str!("../../queries/cost/unit_cost.sql"),
    ),
    (
        "cost/commitment_utilisation",
        include_str!("../../queries/cost/commitment_utilisation.sql"),
    ),
    (
        "cost/allocation",
        include_str!("../../queries/cost/allocation.sql"),
    ),
    (
        "cost/allocation_audit",
        include_str!("../../queries/cost/allocation_audit.sql"),
    ),
];

/// Scorecard checks by name (`queries/scorecards/<name>.sql`): per catalog service,
/// `service`, `value` and `passed`, given `$from`, `$to` and `$threshold`.
pub const SCORECARD_CHECKS: &[(&str, &str)] = &[
    (
        "deployed_within_days",
        include_str!("../../queries/scorecards/deployed_within_days.sql"),
    ),
    (
        "lead_time_median_hours_below",
        include_str!("../../queries/scorecards/lead_time_median_hours_below.sql"),
    ),
    (
        "change_failure_rate_below",
        include_str!("../../queries/scorecards/change_failure_rate_below.sql"),
    ),
    (
        "owner_set",
        include_str!("../../queries/scorecards/owner_set.sql"),
    ),
];

/// The SQL of a scorecard check.
pub fn scorecard_sql(check: &str) -> Option<&'static str> {
    SCORECARD_CHECKS
        .iter()
        .find(|(c, _)| *c == check)
        .map(|(_, sql)| *sql)
}

/// The SQL of a metric query.
pub fn metric_sql(id: &str) -> Option<&'static str> {
    METRICS.iter().find(|(q, _)| *q == id).map(|(_, sql)| *sql)
}

/// The names of the North Star queries (`north_star/<name>`), in registration order.
pub fn north_star_names() -> Vec<&'static str> {
    METRICS
        .iter()
        .filter_map(|(id, _)| id.strip_prefix("north_star/"))
        .collect()
}
