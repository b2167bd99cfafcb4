-- name: failed_deployment_recovery_time
-- unit: hours
-- grains: window, week, month, quarter
-- scopes: org, team, service
-- description: Median and p90 hours from a failed deployment to its recovery, and the failed ones not yet recovered, with a DORA tier.
-- order: 4
-- empty_zero: n, unresolved
-- empty_null: median_hours, p90_hours, tier
-- headline: median_hours
-- gauge: median_hours northstar_recovery_time_median_hours Median failed deployment recovery time in the window, hours.
-- Failed deployment recovery time per scope and period.
-- Parameters: $from, $to, $scope, $grain (as deployment_frequency).
-- n = failed deployments finished in the period. For each: hours from its finish to
-- recovered_at (deployment_outcomes: latest resolution of its linked incidents, or
-- the finish of the rollback that replaced it), floored at 0. Failed deployments not
-- yet recovered are counted in `unresolved` and not timed.
-- Median and p90 interpolated like PERCENTILE_CONT (p90 by hand: see lead_time.sql).
-- Tier: elite < 1 h, high < 1 day, medium < 1 week,
-- else low; NULL when nothing was timed.
WITH failed AS (
    SELECT
        CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN team ELSE service END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, finished_at) AS DATE) END AS period_start,
        CASE WHEN recovered_at IS NOT NULL THEN
            greatest(0.0, (extract(epoch FROM recovered_at) - extract(epoch FROM finished_at)) / 3600.0)
        END AS hours,
        CASE WHEN recovered_at IS NULL THEN 1 ELSE 0 END AS unresolved
    FROM deployment_outcomes
    WHERE failed AND finished_at >= $from AND finished_at < $to
),
ranked AS (
    SELECT
        *,
        CAST(row_number() OVER (PARTITION BY scope_key, period_start ORDER BY hours NULLS LAST) - 1 AS DOUBLE) AS i,
        0.9 * CAST(count(hours) OVER (PARTITION BY scope_key, period_start) - 1 AS DOUBLE) AS p90_pos
    FROM failed
)
SELECT
    scope_key,
    period_start,
    count(*) AS n,
    sum(unresolved) AS unresolved,
    median(hours) AS median_hours,
    CASE WHEN count(hours) > 0 THEN sum(CASE
        WHEN hours IS NULL THEN 0
        WHEN i = floor(p90_pos) THEN hours * (1 - (p90_pos - floor(p90_pos)))
        WHEN i = floor(p90_pos) + 1 THEN hours * (p90_pos - floor(p90_pos))
        ELSE 0
    END) END AS p90_hours,
    CASE
        WHEN median(hours) IS NULL THEN NULL
        WHEN median(hours) < 1 THEN 'elite'
        WHEN median(hours) < 24 THEN 'high'
        WHEN median(hours) < 24 * 7 THEN 'medium'
        ELSE 'low'
    END AS tier
FROM ranked
GROUP BY scope_key, period_start
ORDER BY scope_key, period_start
