-- name: month_over_month
-- unit: currency
-- grains: month
-- scopes: org, team, service, provider, category, cloud_service
-- description: Month-over-month change of effective cost per scope key and currency.
-- order: 2
-- Month-over-month change of effective cost per scope key and currency.
-- Parameters: $from, $to, $scope (as queries/cost/costs.sql).
-- Rows: every calendar month the window [from, to) touches × every (scope key,
--   currency) with cost in that month or the month before. A month's cost is the
--   whole calendar month's effective cost (lines with day < $to: the last month is
--   month-to-date, `complete` = false); previous_cost is the whole previous month
--   (0 when the key had no line in it).
-- change = cost − previous_cost; change_ratio = change / previous_cost, NULL when the
--   previous month is 0 or has no cost (Backstage's ChangeStatistic omits the ratio
--   when the old sum is 0: it would be ±∞). Never across currencies.
-- n = cost lines of the month (distinct lines); previous_n likewise.
WITH days AS (
    SELECT unnest(range(CAST($from AS DATE), CAST($to AS DATE), INTERVAL '1 day')) AS day
),
months AS (
    SELECT DISTINCT CAST(date_trunc('month', CAST(day AS TIMESTAMP)) AS DATE) AS month
    FROM days
),
bounds AS (
    SELECT CAST(min(month) - INTERVAL '1 month' AS DATE) AS first_month FROM months
),
monthly AS (
    SELECT
        CASE $scope
            WHEN 'org' THEN 'org'
            WHEN 'team' THEN c.team
            WHEN 'service' THEN COALESCE(c.service, 'unallocated')
            WHEN 'provider' THEN COALESCE(c.provider, 'unknown')
            WHEN 'category' THEN COALESCE(c.service_category, 'unknown')
            WHEN 'cloud_service' THEN COALESCE(c.cloud_service, 'unknown')
        END AS scope_key,
        CAST(date_trunc('month', c.day) AS DATE) AS month,
        c.currency,
        sum(c.effective_cost) AS cost,
        count(DISTINCT c.line_no) AS n
    FROM cost_lines c
    CROSS JOIN bounds b
    WHERE CAST(c.day AS DATE) >= b.first_month AND c.day < $to
    GROUP BY 1, 2, 3
),
-- Each month's figures once as the month itself and once as the next month's
-- previous month, folded into one row per (key, currency, month): `monthly` is read
-- once (a second reference would aggregate the cost lines again).
shifted AS (
    SELECT
        scope_key,
        currency,
        CASE s.shift WHEN 0 THEN month ELSE CAST(month + INTERVAL '1 month' AS DATE) END AS month,
        CASE s.shift WHEN 0 THEN cost END AS cost,
        CASE s.shift WHEN 0 THEN n END AS n,
        CASE s.shift WHEN 1 THEN cost END AS previous_cost,
        CASE s.shift WHEN 1 THEN n END AS previous_n
    FROM monthly
    CROSS JOIN (VALUES (0), (1)) AS s(shift)
),
keyed AS (
    SELECT
        scope_key,
        currency,
        month,
        max(cost) AS cost,
        max(n) AS n,
        max(previous_cost) AS previous_cost,
        max(previous_n) AS previous_n
    FROM shifted
    GROUP BY scope_key, currency, month
)
SELECT
    k.scope_key,
    k.month AS period_start,
    k.currency,
    COALESCE(k.n, 0) AS n,
    COALESCE(k.cost, 0.0) AS cost,
    COALESCE(k.previous_cost, 0.0) AS previous_cost,
    COALESCE(k.cost, 0.0) - COALESCE(k.previous_cost, 0.0) AS change,
    (COALESCE(k.cost, 0.0) - k.previous_cost) / NULLIF(k.previous_cost, 0.0) AS change_ratio,
    COALESCE(k.previous_n, 0) AS previous_n,
    CAST(k.month + INTERVAL '1 month' AS DATE) <= CAST($to AS DATE) AS complete
FROM keyed k
JOIN months m ON m.month = k.month
WHERE k.scope_key IS NOT NULL
ORDER BY k.scope_key, k.month, k.currency
