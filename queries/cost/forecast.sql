-- name: forecast
-- unit: currency
-- grains: month
-- scopes: org, team, service, provider, category, cloud_service
-- description: End-of-month forecast of effective cost for the month containing the window's last day.
-- order: 3
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
    SELECT
        last_window_day,
        month_start,
        CAST(date_part('day', CAST(month_start + INTERVAL '1 month' - INTERVAL '1 day' AS DATE))
            AS BIGINT) AS days_in_month
    FROM (
        SELECT
            last_window_day,
            CAST(date_trunc('month', CAST(last_window_day AS TIMESTAMP)) AS DATE) AS month_start
        FROM (
            SELECT CAST(CAST($to AS TIMESTAMP) - INTERVAL '1 microsecond' AS DATE) AS last_window_day
        )
    )
),
month_days AS (
    SELECT unnest(range(month_start, CAST(month_start + INTERVAL '1 month' AS DATE), INTERVAL '1 day')) AS day
    FROM bounds
),
-- Lines up to the window's last day (day < $to), per key, currency and day, with the
-- last day that has any line (one for all keys).
daily AS (
    SELECT
        scope_key,
        currency,
        day,
        cost,
        max(day) OVER () AS last_actual_day
    FROM (
        SELECT
            CASE $scope
                WHEN 'org' THEN 'org'
                WHEN 'team' THEN team
                WHEN 'service' THEN COALESCE(service, 'unallocated')
                WHEN 'provider' THEN COALESCE(provider, 'unknown')
                WHEN 'category' THEN COALESCE(service_category, 'unknown')
                WHEN 'cloud_service' THEN COALESCE(cloud_service, 'unknown')
            END AS scope_key,
            currency,
            CAST(day AS DATE) AS day,
            sum(effective_cost) AS cost
        FROM cost_lines
        WHERE day < $to
        GROUP BY 1, 2, 3
    )
),
marked AS (
    SELECT
        d.scope_key,
        d.currency,
        d.day,
        d.cost,
        d.last_actual_day,
        d.day >= b.month_start AS in_month,
        d.day >= CAST(d.last_actual_day - INTERVAL '28 days' AS DATE)
            AND d.day < d.last_actual_day AS in_history
    FROM daily d
    CROSS JOIN bounds b
),
-- History days (any key) per weekday.
history_days AS (
    SELECT date_part('dow', day) AS dow, count(DISTINCT day) AS days
    FROM marked
    WHERE in_history
    GROUP BY date_part('dow', day)
),
per_key AS (
    SELECT
        scope_key,
        currency,
        COALESCE(sum(CASE WHEN in_month THEN cost END), 0.0) AS actual,
        COALESCE(sum(CASE WHEN in_history THEN cost END), 0.0) AS history_cost
    FROM marked
    WHERE (in_month OR in_history) AND scope_key IS NOT NULL
    GROUP BY scope_key, currency
),
per_weekday AS (
    SELECT scope_key, currency, date_part('dow', day) AS dow, sum(cost) AS cost
    FROM marked
    WHERE in_history
    GROUP BY scope_key, currency, date_part('dow', day)
),
-- The month's days after the last actual day, with the weekday's history days.
remaining_days AS (
    SELECT md.day, date_part('dow', md.day) AS dow, COALESCE(h.days, 0) AS days
    FROM month_days md
    LEFT JOIN history_days h ON h.dow = date_part('dow', md.day)
    WHERE md.day > (SELECT max(last_actual_day) FROM daily)
),
totals AS (
    SELECT
        (SELECT COALESCE(sum(days), 0) FROM history_days) AS n,
        (SELECT max(last_actual_day) FROM daily) AS last_actual_day,
        (SELECT count(*) FROM remaining_days) AS days_remaining
),
remaining AS (
    SELECT
        k.scope_key,
        k.currency,
        sum(CASE
            WHEN r.days > 0 THEN COALESCE(w.cost, 0.0) / r.days
            WHEN t.n > 0 THEN k.history_cost / t.n
            ELSE 0.0
        END) AS remaining_forecast
    FROM per_key k
    CROSS JOIN totals t
    CROSS JOIN remaining_days r
    LEFT JOIN per_weekday w
        ON w.scope_key = k.scope_key AND w.currency = k.currency AND w.dow = r.dow
    GROUP BY k.scope_key, k.currency
)
SELECT
    k.scope_key,
    b.month_start AS period_start,
    k.currency,
    t.n,
    t.last_actual_day,
    b.days_in_month - t.days_remaining AS days_elapsed,
    b.days_in_month,
    k.actual,
    k.actual + COALESCE(r.remaining_forecast, 0.0) AS forecast
FROM per_key k
CROSS JOIN bounds b
CROSS JOIN totals t
LEFT JOIN remaining r ON r.scope_key = k.scope_key AND r.currency = k.currency
ORDER BY k.scope_key, k.currency
