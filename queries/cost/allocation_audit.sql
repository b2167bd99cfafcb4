-- name: allocation_audit
-- unit: currency
-- grains: month
-- scopes: team
-- description: Where each allocation rule moved cost, per month, rule, split method, team and currency.
-- order: 9
-- Allocation audit: where each rule moved cost, per month, rule, split method, team
-- and currency.
-- Parameters: $from, $to.
-- amount = Σ effective_cost of the allocated shares in the window (by day, calendar
--   months); n = lines (distinct lines) the rule gave (a share of) to the team.
--   allocation_rule and split_method as cost_lines gives them ('unallocated' for the
--   lines no rule matched, which go to team 'unallocated').
SELECT
    CAST(date_trunc('month', day) AS DATE) AS period_start,
    allocation_rule,
    split_method,
    team,
    currency,
    count(DISTINCT line_no) AS n,
    sum(effective_cost) AS amount
FROM cost_lines
WHERE day >= $from AND day < $to
GROUP BY CAST(date_trunc('month', day) AS DATE), allocation_rule, split_method, team, currency
ORDER BY period_start, allocation_rule, split_method, team, currency
