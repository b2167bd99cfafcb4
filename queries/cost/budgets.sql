-- name: budgets
-- unit: currency
-- grains: month
-- scopes: team
-- description: Budget against actual and forecast effective cost per team, month and currency.
-- order: 4
-- Budget against actual and forecast effective cost per team, month and currency.
-- Parameters: $from, $to.
-- Months: every calendar month the window [from, to) touches. The current month is
--   the one containing the window's last day ($to − 1 µs); the others are past.
-- budget: from cost_budgets. For a team and month, the rows naming that month win;
--   the team's rows with a NULL month (every month) apply only when none names it.
--   One budget per currency (the largest amount if a currency is given twice); a
--   budget is never converted: it is compared with the cost in its own currency.
-- actual: the team's effective cost in the month. Past months: the whole month;
--   current month: up to the last day with data (as queries/cost/forecast.sql).
-- forecast: past months: actual. Current month: the method of
--   queries/cost/forecast.sql (actual + Σ over the month's remaining days of the
--   team's mean cost on that weekday over the 28 days before the last actual day).
-- actual_vs_budget = actual / budget; forecast_vs_budget = forecast / budget (NULL
--   when the budget is 0 or missing).
-- status: NULL without a budget; 'over' when actual > budget; 'at risk' when
--   forecast > budget; else 'ok'.
-- Rows: every (team, month, currency) with a budget or with cost. n = cost lines of
--   the team in the month (distinct lines; to date for the current month).
WITH days AS (
    SELECT unnest(range(CAST($from AS DATE), CAST($to AS DATE), INTERVAL '1 day')) AS day
),
months AS (
    SELECT DISTINCT CAST(date_trunc('month', CAST(day AS TIMESTAMP)) AS DATE) AS month
    FROM days
),
-- The current month: the one containing the window's last day.
bounds AS (
    SELECT
        CAST(date_trunc('month', CAST(last_window_day AS TIMESTAMP)) AS DATE) AS month_start
    FROM (
        SELECT CAST(CAST($to AS TIMESTAMP) - INTERVAL '1 microsecond' AS DATE) AS last_window_day
    )
),
month_days AS (
    SELECT unnest(range(month_start, CAST(month_start + INTERVAL '1 month' AS DATE), INTERVAL '1 day')) AS day
    FROM bounds
),
-- Lines up to the window's last day per team, currency and day (a line has one
-- day, so line counts add up over days), with the last day that has any line.
daily AS (
    SELECT team, currency, day, cost, lines, max(day) OVER () AS last_actual_day
    FROM (
        SELECT team, currency, CAST(day AS DATE) AS day, cost, lines
        FROM team_daily_costs
        WHERE day < $to
    )
),
marked AS (
    SELECT
        d.team,
        d.currency,
        d.day,
        CAST(date_trunc('month', CAST(d.day AS TIMESTAMP)) AS DATE) AS month,
        d.cost,
        d.lines,
        d.last_actual_day,
        d.day >= b.month_start AS in_month,
        d.day >= CAST(d.last_actual_day - INTERVAL '28 days' AS DATE)
            AND d.day < d.last_actual_day AS in_history
    FROM daily d
    CROSS JOIN bounds b
),
-- Past months: the whole month.
past AS (
    SELECT k.team, k.month, k.currency, sum(k.cost) AS actual, sum(k.lines) AS n
    FROM marked k
    JOIN months m ON m.month = k.month
    WHERE NOT k.in_month
    GROUP BY k.team, k.month, k.currency
),
-- Current month: the method of queries/cost/forecast.sql at team scope.
history_days AS (
    SELECT date_part('dow', day) AS dow, count(DISTINCT day) AS days
    FROM marked
    WHERE in_history
    GROUP BY date_part('dow', day)
),
per_key AS (
    SELECT
        team,
        currency,
        COALESCE(sum(CASE WHEN in_month THEN cost END), 0.0) AS actual,
        COALESCE(sum(CASE WHEN in_month THEN lines END), 0) AS n,
        COALESCE(sum(CASE WHEN in_history THEN cost END), 0.0) AS history_cost
    FROM marked
    WHERE in_month OR in_history
    GROUP BY team, currency
),
per_weekday AS (
    SELECT team, currency, date_part('dow', day) AS dow, sum(cost) AS cost
    FROM marked
    WHERE in_history
    GROUP BY team, currency, date_part('dow', day)
),
remaining_days AS (
    SELECT md.day, date_part('dow', md.day) AS dow, COALESCE(h.days, 0) AS days
    FROM month_days md
    LEFT JOIN history_days h ON h.dow = date_part('dow', md.day)
    WHERE md.day > (SELECT max(last_actual_day) FROM daily)
),
totals AS (
    SELECT (SELECT COALESCE(sum(days), 0) FROM history_days) AS n
),
remaining AS (
    SELECT
        k.team,
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
        ON w.team = k.team AND w.currency = k.currency AND w.dow = r.dow
    GROUP BY k.team, k.currency
),
actuals AS (
    SELECT team, month, currency, actual, actual AS forecast, n FROM past
    UNION ALL
    SELECT
        k.team,
        b.month_start AS month,
        k.currency,
        k.actual,
        k.actual + COALESCE(r.remaining_forecast, 0.0) AS forecast,
        k.n
    FROM per_key k
    CROSS JOIN bounds b
    LEFT JOIN remaining r ON r.team = k.team AND r.currency = k.currency
),
specific AS (
    SELECT b.team, m.month, b.currency, max(b.amount) AS budget
    FROM cost_budgets b
    JOIN months m ON m.month = CAST(date_trunc('month', b.month) AS DATE)
    WHERE b.month IS NOT NULL
    GROUP BY b.team, m.month, b.currency
),
defaults AS (
    SELECT b.team, m.month, b.currency, max(b.amount) AS budget
    FROM cost_budgets b
    CROSS JOIN months m
    WHERE b.month IS NULL
    GROUP BY b.team, m.month, b.currency
),
budget AS (
    SELECT team, month, currency, budget FROM specific
    UNION ALL
    SELECT d.team, d.month, d.currency, d.budget
    FROM defaults d
    LEFT JOIN (SELECT DISTINCT team, month FROM specific) s
        ON s.team = d.team AND s.month = d.month
    WHERE s.team IS NULL
),
grid AS (
    SELECT team, month, currency FROM budget
    UNION
    SELECT team, month, currency FROM actuals
)
SELECT
    g.team,
    g.month AS period_start,
    g.currency,
    COALESCE(a.n, 0) AS n,
    b.budget,
    COALESCE(a.actual, 0.0) AS actual,
    COALESCE(a.forecast, 0.0) AS forecast,
    COALESCE(a.actual, 0.0) / NULLIF(b.budget, 0.0) AS actual_vs_budget,
    COALESCE(a.forecast, 0.0) / NULLIF(b.budget, 0.0) AS forecast_vs_budget,
    CASE
        WHEN b.budget IS NULL THEN NULL
        WHEN COALESCE(a.actual, 0.0) > b.budget THEN 'over'
        WHEN COALESCE(a.forecast, 0.0) > b.budget THEN 'at risk'
        ELSE 'ok'
    END AS status
FROM grid g
LEFT JOIN budget b ON b.team = g.team AND b.month = g.month AND b.currency = g.currency
LEFT JOIN actuals a ON a.team = g.team AND a.month = g.month AND a.currency = g.currency
ORDER BY g.team, g.month, g.currency
