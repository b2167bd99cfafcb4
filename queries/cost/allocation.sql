-- name: allocation
-- unit: fraction
-- grains: month
-- scopes: org
-- description: Allocation coverage: how much of the cost the allocation rules gave to a team, per month and currency.
-- order: 8
-- Allocation coverage per month and currency: how much of the cost the allocation
-- rules gave to a team.
-- Parameters: $from, $to.
-- total = Σ effective_cost of the lines in the window (by day), per calendar month;
-- allocated = the part with team <> 'unallocated'; unallocated = the rest;
-- coverage = allocated / total (NULL when total is 0; credits can make it exceed 1).
-- n = lines (distinct lines); n_unallocated = lines with an unallocated share.
SELECT
    CAST(date_trunc('month', day) AS DATE) AS period_start,
    currency,
    count(DISTINCT line_no) AS n,
    count(DISTINCT CASE WHEN team = 'unallocated' THEN line_no END) AS n_unallocated,
    sum(effective_cost) AS total,
    COALESCE(sum(CASE WHEN team <> 'unallocated' THEN effective_cost END), 0.0) AS allocated,
    COALESCE(sum(CASE WHEN team = 'unallocated' THEN effective_cost END), 0.0) AS unallocated,
    COALESCE(sum(CASE WHEN team <> 'unallocated' THEN effective_cost END), 0.0)
        / NULLIF(sum(effective_cost), 0.0) AS coverage
FROM cost_lines
WHERE day >= $from AND day < $to
GROUP BY CAST(date_trunc('month', day) AS DATE), currency
ORDER BY period_start, currency
