-- name: team_daily_costs
-- description: Cost per team, currency and day, with the number of lines behind it.
-- order: 4
-- phase: after_enrich
-- Cost per team, currency and day (midnight UTC of the charge start) with the number
-- of lines behind it: what the budget forecast reads, derived once per engine
-- rather than once per reference to it inside the query. A line lies on one day, so
-- summing `lines` over days counts each line once per team.
SELECT
    team,
    currency,
    day,
    sum(effective_cost) AS cost,
    count(DISTINCT line_no) AS lines
FROM cost_lines
GROUP BY team, currency, day
