-- name: change_failure_rate
-- unit: fraction
-- grains: window, week, month, quarter
-- scopes: org, team, service
-- description: Share of deployments that failed (a linked incident, or replaced by a rollback), with a DORA tier.
-- order: 3
-- empty_zero: n, failed
-- empty_null: rate, tier
-- headline: rate
-- gauge: rate northstar_change_failure_rate Share of deployments in the window that caused a failure.
-- Change failure rate per scope and period.
-- Parameters: $from, $to, $scope, $grain (as deployment_frequency).
-- n = deployments finished in the period; failed = those deployment_outcomes marks
-- failed (a linked incident, or replaced by a rollback); rate = failed / n.
-- Tier (DORA 2023): elite <= 5 %, high <= 10 %, medium <= 15 %, else low.
-- Compared in integers (failed * 100 <= 5 * n) so 1 in 20 is exactly 5 %.
WITH scoped AS (
    SELECT
        CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN team ELSE service END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, finished_at) AS DATE) END AS period_start,
        CASE WHEN failed THEN 1 ELSE 0 END AS failed
    FROM deployment_outcomes
    WHERE finished_at >= $from AND finished_at < $to
)
SELECT
    scope_key,
    period_start,
    count(*) AS n,
    sum(failed) AS failed,
    CAST(sum(failed) AS DOUBLE) / count(*) AS rate,
    CASE
        WHEN sum(failed) * 100 <= 5 * count(*) THEN 'elite'
        WHEN sum(failed) * 100 <= 10 * count(*) THEN 'high'
        WHEN sum(failed) * 100 <= 15 * count(*) THEN 'medium'
        ELSE 'low'
    END AS tier
FROM scoped
GROUP BY scope_key, period_start
ORDER BY scope_key, period_start
