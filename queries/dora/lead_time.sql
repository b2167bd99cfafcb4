-- name: lead_time
-- unit: hours
-- grains: window, week, month, quarter
-- scopes: org, team, service
-- description: Change lead time: median and p90 hours from a commit's start to the deployment that shipped it, with a DORA tier.
-- order: 2
-- empty_zero: n
-- empty_null: median_hours, p90_hours, tier
-- headline: median_hours
-- gauge: median_hours northstar_lead_time_median_hours Median lead time for changes in the window, hours.
-- Change lead time per scope and period.
-- Parameters: $from, $to, $scope, $grain (as deployment_frequency), and
--             $lead_time_start ('authored' | 'committed' | 'pr_created' | 'pr_merged').
-- One sample per (deployment, commit it shipped first): deployment.finished_at minus
-- the commit's start point, in hours. Spans <= 0 (or with no start point) are dropped.
-- n = samples (commits). Median and p90 are interpolated like PERCENTILE_CONT: the
-- p90 is computed here by hand because DataFusion 55's percentile_cont truncates its
-- interpolation weight to 6 decimals (43.199976 where 43.2 is right).
-- Tier: elite < 24 h, high < 1 week, medium < 30 days, else low; NULL when n = 0.
-- Periods are by the deployment's finish time.
WITH samples AS (
    SELECT
        CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN team ELSE service END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, finished_at) AS DATE) END AS period_start,
        (extract(epoch FROM finished_at) - extract(epoch FROM
            CASE $lead_time_start
                WHEN 'committed' THEN committed_at
                WHEN 'pr_created' THEN pr_created_at
                WHEN 'pr_merged' THEN pr_merged_at
                ELSE authored_at
            END)) / 3600.0 AS hours
    FROM lead_time_samples
    WHERE finished_at >= $from AND finished_at < $to
),
ranked AS (
    SELECT
        scope_key,
        period_start,
        hours,
        CAST(row_number() OVER (PARTITION BY scope_key, period_start ORDER BY hours) - 1 AS DOUBLE) AS i,
        0.9 * CAST(count(*) OVER (PARTITION BY scope_key, period_start) - 1 AS DOUBLE) AS p90_pos
    FROM samples
    WHERE hours > 0
)
SELECT
    scope_key,
    period_start,
    count(*) AS n,
    median(hours) AS median_hours,
    sum(CASE
        WHEN i = floor(p90_pos) THEN hours * (1 - (p90_pos - floor(p90_pos)))
        WHEN i = floor(p90_pos) + 1 THEN hours * (p90_pos - floor(p90_pos))
        ELSE 0
    END) AS p90_hours,
    CASE
        WHEN median(hours) < 24 THEN 'elite'
        WHEN median(hours) < 24 * 7 THEN 'high'
        WHEN median(hours) < 24 * 30 THEN 'medium'
        ELSE 'low'
    END AS tier
FROM ranked
GROUP BY scope_key, period_start
ORDER BY scope_key, period_start
