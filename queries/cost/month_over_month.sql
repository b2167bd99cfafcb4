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
keys AS (
    SELECT scope_key, currency, month FROM monthly
    UNION
    SELECT scope_key, currency, CAST(month + INTERVAL '1 month' AS DATE) AS month FROM monthly
)
SELECT
    k.scope_key,
    k.month AS period_start,
    k.currency,
    COALESCE(c.n, 0) AS n,
    COALESCE(c.cost, 0.0) AS cost,
    COALESCE(p.cost, 0.0) AS previous_cost,
    COALESCE(c.cost, 0.0) - COALESCE(p.cost, 0.0) AS change,
    (COALESCE(c.cost, 0.0) - p.cost) / NULLIF(p.cost, 0.0) AS change_ratio,
    COALESCE(p.n, 0) AS previous_n,
    CAST(k.month + INTERVAL '1 month' AS DATE) <= CAST($to AS DATE) AS complete
FROM keys k
JOIN months m ON m.month = k.month
LEFT JOIN monthly c
    ON c.scope_key = k.scope_key AND c.currency = k.currency AND c.month = k.month
LEFT JOIN monthly p
    ON p.scope_key = k.scope_key AND p.currency = k.currency
   AND p.month = CAST(k.month - INTERVAL '1 month' AS DATE)
WHERE k.scope_key IS NOT NULL
ORDER BY k.scope_key, k.month, k.currency
