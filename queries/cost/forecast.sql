-- End-of-month forecast of effective cost per scope key and currency, for the
-- calendar month containing the window's last day ($to − 1 µs).
-- Parameters: $to, $scope (as queries/cost/costs.sql; $from is not used: the month
--   is taken whole, from its first day).
-- Method (weekday-seasonal run rate):
--   L (last_actual_day) = the last day with any cost line on or before the window's
--     last day (billing data lags; one day for every key, so a key with no line on
--     a day the export covers had 0 cost that day).
--   actual = effective cost of the month's days up to and including L
--     (days_elapsed of them; 0 when the month has no data yet).
--   history = the 28 days before L (L − 28 … L − 1: four of each weekday) on which
--     any cost line exists; n = how many (0 … 28). A key's cost on such a day is
--     the sum of its lines, 0 with none.
--   expected(weekday) = the key's mean daily cost over the history days of that
--     weekday; when history has no day of that weekday, the key's mean over all
--     history days; with no history at all, 0.
--   forecast = actual + Σ expected(weekday(d)) over the days d of the month after L.
-- Keys: every (scope key, currency) with cost in the month up to L or in history.
WITH bounds AS (
    SELECT CAST(CAST($to AS TIMESTAMP) - INTERVAL '1 microsecond' AS DATE) AS last_window_day
),
month AS (
    SELECT
        last_window_day,
        CAST(date_trunc('month', CAST(last_window_day AS TIMESTAMP)) AS DATE) AS month_start
    FROM bounds
),
month_days AS (
    SELECT unnest(range(month_start, CAST(month_start + INTERVAL '1 month' AS DATE), INTERVAL '1 day')) AS day
    FROM month
),
anchor AS (
    SELECT
        m.month_start,
        CAST(max(c.day) AS DATE) AS last_actual_day
    FROM cost_lines c
    CROSS JOIN month m
    WHERE CAST(c.day AS DATE) <= m.last_window_day
    GROUP BY m.month_start
),
history_days AS (
    SELECT DISTINCT CAST(c.day AS DATE) AS day
    FROM cost_lines c
    CROSS JOIN anchor a
    WHERE CAST(c.day AS DATE) >= CAST(a.last_actual_day - INTERVAL '28 days' AS DATE)
      AND CAST(c.day AS DATE) < a.last_actual_day
),
daily AS (
    SELECT
        CASE $scope
            WHEN 'org' THEN 'org'
            WHEN 'team' THEN c.team
            WHEN 'service' THEN COALESCE(c.service, 'unallocated')
            WHEN 'provider' THEN COALESCE(c.provider, 'unknown')
            WHEN 'category' THEN COALESCE(c.service_category, 'unknown')
            WHEN 'cloud_service' THEN COALESCE(c.cloud_service, 'unknown')
        END AS scope_key,
        c.currency,
        CAST(c.day AS DATE) AS day,
        sum(c.effective_cost) AS cost
    FROM cost_lines c
    CROSS JOIN anchor a
    WHERE CAST(c.day AS DATE) >= least(a.month_start, CAST(a.last_actual_day - INTERVAL '28 days' AS DATE))
      AND CAST(c.day AS DATE) <= a.last_actual_day
    GROUP BY 1, 2, 3
),
keys AS (
    SELECT DISTINCT scope_key, currency FROM daily WHERE scope_key IS NOT NULL
),
counts AS (
    SELECT
        (SELECT count(*) FROM history_days) AS n,
        count(*) AS days_in_month,
        sum(CASE WHEN md.day <= a.last_actual_day THEN 1 ELSE 0 END) AS days_elapsed
    FROM month_days md
    CROSS JOIN anchor a
),
history AS (
    SELECT k.scope_key, k.currency, date_part('dow', h.day) AS dow, COALESCE(d.cost, 0.0) AS cost
    FROM keys k
    CROSS JOIN history_days h
    LEFT JOIN daily d ON d.scope_key = k.scope_key AND d.currency = k.currency AND d.day = h.day
),
by_weekday AS (
    SELECT scope_key, currency, dow, avg(cost) AS expected
    FROM history
    GROUP BY scope_key, currency, dow
),
overall AS (
    SELECT scope_key, currency, avg(cost) AS expected
    FROM history
    GROUP BY scope_key, currency
),
remaining AS (
    SELECT
        k.scope_key,
        k.currency,
        sum(COALESCE(w.expected, o.expected, 0.0)) AS remaining_forecast
    FROM keys k
    CROSS JOIN month_days md
    CROSS JOIN anchor a
    LEFT JOIN by_weekday w
        ON w.scope_key = k.scope_key AND w.currency = k.currency AND w.dow = date_part('dow', md.day)
    LEFT JOIN overall o ON o.scope_key = k.scope_key AND o.currency = k.currency
    WHERE md.day > a.last_actual_day
    GROUP BY k.scope_key, k.currency
),
actual AS (
    SELECT d.scope_key, d.currency, sum(d.cost) AS actual
    FROM daily d
    CROSS JOIN anchor a
    WHERE d.day >= a.month_start
    GROUP BY d.scope_key, d.currency
)
SELECT
    k.scope_key,
    a.month_start AS period_start,
    k.currency,
    n.n,
    a.last_actual_day,
    n.days_elapsed,
    n.days_in_month,
    COALESCE(t.actual, 0.0) AS actual,
    COALESCE(t.actual, 0.0) + COALESCE(r.remaining_forecast, 0.0) AS forecast
FROM keys k
CROSS JOIN anchor a
CROSS JOIN counts n
LEFT JOIN actual t ON t.scope_key = k.scope_key AND t.currency = k.currency
LEFT JOIN remaining r ON r.scope_key = k.scope_key AND r.currency = k.currency
ORDER BY k.scope_key, k.currency
