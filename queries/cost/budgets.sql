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
--   the team in the month (distinct x_line_id; to date for the current month).
WITH days AS (
    SELECT unnest(range(CAST($from AS DATE), CAST($to AS DATE), INTERVAL '1 day')) AS day
),
months AS (
    SELECT DISTINCT CAST(date_trunc('month', CAST(day AS TIMESTAMP)) AS DATE) AS month
    FROM days
),
bounds AS (
    SELECT CAST(CAST($to AS TIMESTAMP) - INTERVAL '1 microsecond' AS DATE) AS last_window_day
),
current_month AS (
    SELECT
        last_window_day,
        CAST(date_trunc('month', CAST(last_window_day AS TIMESTAMP)) AS DATE) AS month_start
    FROM bounds
),
month_days AS (
    SELECT unnest(range(month_start, CAST(month_start + INTERVAL '1 month' AS DATE), INTERVAL '1 day')) AS day
    FROM current_month
),
anchor AS (
    SELECT
        m.month_start,
        CAST(max(c.day) AS DATE) AS last_actual_day
    FROM cost_lines c
    CROSS JOIN current_month m
    WHERE CAST(c.day AS DATE) <= m.last_window_day
    GROUP BY m.month_start
),
-- Past months: whole-month actuals.
past AS (
    SELECT
        c.team,
        CAST(date_trunc('month', c.day) AS DATE) AS month,
        c.currency,
        sum(c.effective_cost) AS actual,
        count(DISTINCT c.x_line_id) AS n
    FROM cost_lines c
    JOIN months m ON m.month = CAST(date_trunc('month', c.day) AS DATE)
    CROSS JOIN current_month cm
    WHERE m.month < cm.month_start
    GROUP BY 1, 2, 3
),
-- Current month: the forecast of queries/cost/forecast.sql at team scope.
history_days AS (
    SELECT DISTINCT CAST(c.day AS DATE) AS day
    FROM cost_lines c
    CROSS JOIN anchor a
    WHERE CAST(c.day AS DATE) >= CAST(a.last_actual_day - INTERVAL '28 days' AS DATE)
      AND CAST(c.day AS DATE) < a.last_actual_day
),
daily AS (
    SELECT
        c.team,
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
    SELECT DISTINCT team, currency FROM daily
),
history AS (
    SELECT k.team, k.currency, date_part('dow', h.day) AS dow, COALESCE(d.cost, 0.0) AS cost
    FROM keys k
    CROSS JOIN history_days h
    LEFT JOIN daily d ON d.team = k.team AND d.currency = k.currency AND d.day = h.day
),
by_weekday AS (
    SELECT team, currency, dow, avg(cost) AS expected
    FROM history
    GROUP BY team, currency, dow
),
overall AS (
    SELECT team, currency, avg(cost) AS expected
    FROM history
    GROUP BY team, currency
),
remaining AS (
    SELECT
        k.team,
        k.currency,
        sum(COALESCE(w.expected, o.expected, 0.0)) AS remaining_forecast
    FROM keys k
    CROSS JOIN month_days md
    CROSS JOIN anchor a
    LEFT JOIN by_weekday w
        ON w.team = k.team AND w.currency = k.currency AND w.dow = date_part('dow', md.day)
    LEFT JOIN overall o ON o.team = k.team AND o.currency = k.currency
    WHERE md.day > a.last_actual_day
    GROUP BY k.team, k.currency
),
current_lines AS (
    SELECT c.team, c.currency, count(DISTINCT c.x_line_id) AS n
    FROM cost_lines c
    CROSS JOIN anchor a
    WHERE CAST(c.day AS DATE) >= a.month_start AND CAST(c.day AS DATE) <= a.last_actual_day
    GROUP BY c.team, c.currency
),
current_actuals AS (
    SELECT
        k.team,
        cm.month_start AS month,
        k.currency,
        COALESCE(sum(CASE WHEN d.day >= cm.month_start THEN d.cost END), 0.0) AS actual
    FROM keys k
    CROSS JOIN current_month cm
    LEFT JOIN daily d ON d.team = k.team AND d.currency = k.currency
    GROUP BY k.team, cm.month_start, k.currency
),
actuals AS (
    SELECT team, month, currency, actual, actual AS forecast, n FROM past
    UNION ALL
    SELECT
        c.team,
        c.month,
        c.currency,
        c.actual,
        c.actual + COALESCE(r.remaining_forecast, 0.0) AS forecast,
        COALESCE(l.n, 0) AS n
    FROM current_actuals c
    LEFT JOIN remaining r ON r.team = c.team AND r.currency = c.currency
    LEFT JOIN current_lines l ON l.team = c.team AND l.currency = c.currency
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
