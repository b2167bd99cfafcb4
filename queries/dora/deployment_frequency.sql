-- name: deployment_frequency
-- unit: deployments per day
-- grains: window, week, month, quarter
-- scopes: org, team, service
-- description: Successful production deployments per day, and the median deploy days per week and month, with a DORA tier.
-- order: 1
-- empty_zero: n, deployments
-- empty_null: tier
-- headline: per_day
-- gauge: deployments northstar_deployments Successful production deployments in the window.
-- gauge: per_day northstar_deployments_per_day Successful production deployments per day of the window.
-- Deployment frequency per scope and period.
-- Parameters: $from, $to (timestamps, [from, to)), $scope ('org' | 'team' | 'service'),
--             $grain ('window' = one period for the whole window | 'week' | 'month' | 'quarter').
-- n = deployments (successful production deployments finished in the period).
-- per_day = deployments / days of the period inside the window.
-- median_deploy_days_per_week: median over every ISO week the period touches (weeks
--   with no deployment count as 0) of the days with at least one deployment;
--   likewise per calendar month.
-- Tier (DORA 2023 as DevLake computes it): elite if the weekly median >= 5,
--   high if >= 1, medium if the monthly median >= 1, else low; NULL when n = 0.
WITH days AS (
    SELECT unnest(range(CAST($from AS DATE), CAST($to AS DATE), INTERVAL '1 day')) AS day
),
calendar AS (
    SELECT
        day,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, day) AS DATE) END AS period_start,
        CAST(date_trunc('week', day) AS DATE) AS week_start,
        CAST(date_trunc('month', day) AS DATE) AS month_start
    FROM days
),
scopes AS (
    SELECT DISTINCT
        CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN team ELSE service END AS scope_key
    FROM service_owners
),
daily AS (
    SELECT
        CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN team ELSE service END AS scope_key,
        CAST(finished_at AS DATE) AS day,
        count(*) AS deployments
    FROM prod_deployments
    WHERE finished_at >= $from AND finished_at < $to
    GROUP BY 1, 2
),
grid AS (
    SELECT s.scope_key, c.day, c.period_start, c.week_start, c.month_start,
           COALESCE(d.deployments, 0) AS deployments
    FROM scopes s
    CROSS JOIN calendar c
    LEFT JOIN daily d ON d.scope_key = s.scope_key AND d.day = c.day
),
weekly AS (
    SELECT scope_key, period_start, week_start,
           CAST(sum(CASE WHEN deployments > 0 THEN 1 ELSE 0 END) AS DOUBLE) AS deploy_days
    FROM grid GROUP BY 1, 2, 3
),
monthly AS (
    SELECT scope_key, period_start, month_start,
           CAST(sum(CASE WHEN deployments > 0 THEN 1 ELSE 0 END) AS DOUBLE) AS deploy_days
    FROM grid GROUP BY 1, 2, 3
),
per_week AS (
    SELECT scope_key, period_start, median(deploy_days) AS median_deploy_days_per_week,
           count(*) AS weeks
    FROM weekly GROUP BY 1, 2
),
per_month AS (
    SELECT scope_key, period_start, median(deploy_days) AS median_deploy_days_per_month,
           count(*) AS months
    FROM monthly GROUP BY 1, 2
),
periods AS (
    SELECT scope_key, period_start, max(day) AS last_day, count(*) AS days,
           sum(deployments) AS deployments
    FROM grid GROUP BY 1, 2
)
SELECT
    p.scope_key,
    p.period_start,
    CAST(p.last_day + INTERVAL '1 day' AS DATE) AS period_end,
    p.deployments AS n,
    p.deployments,
    p.days,
    CAST(p.deployments AS DOUBLE) / p.days AS per_day,
    w.weeks,
    w.median_deploy_days_per_week,
    m.months,
    m.median_deploy_days_per_month,
    CASE
        WHEN p.deployments = 0 THEN NULL
        WHEN w.median_deploy_days_per_week >= 5 THEN 'elite'
        WHEN w.median_deploy_days_per_week >= 1 THEN 'high'
        WHEN m.median_deploy_days_per_month >= 1 THEN 'medium'
        ELSE 'low'
    END AS tier
FROM periods p
JOIN per_week w ON w.scope_key = p.scope_key AND w.period_start = p.period_start
JOIN per_month m ON m.scope_key = p.scope_key AND m.period_start = p.period_start
ORDER BY p.scope_key, p.period_start
