-- name: service_daily_costs
-- description: Cost per team, service, currency and day.
-- order: 5
-- phase: after_enrich
-- Cost per team, service (NULL: a line or share with no service), currency and day
-- (midnight UTC of the charge start): what the anomaly detection reads, derived
-- once per engine rather than once per reference to its daily series inside the
-- query (DataFusion inlines CTEs).
SELECT
    team,
    service,
    currency,
    day,
    sum(effective_cost) AS cost
FROM cost_lines
GROUP BY team, service, currency, day
