-- name: costs
-- unit: currency
-- grains: window, day, week, month, quarter
-- scopes: org, team, service, provider, category, cloud_service
-- description: Billed, effective, list and contracted cost per scope, period and currency.
-- order: 1
-- Cost per scope, period and currency.
-- Parameters: $from, $to (timestamps, [from, to)),
--             $scope ('org' | 'team' | 'service' | 'provider' | 'category' | 'cloud_service';
--                     any other value returns no rows),
--             $grain ('day' | 'week' | 'month' | 'window' = one period for the whole window).
-- Input: cost_lines (one row per cost line × allocation share, current import of each
--   billing period, in the reporting currency where a rate exists). A line is in the
--   window by `day` (midnight UTC of its charge start); periods start at date_trunc of
--   that day (ISO weeks), so the first week or month may start before $from.
-- Scope keys: org → 'org'; team → team ('unallocated' when no rule matched);
--   service → catalog service, 'unallocated' when the line has none; provider →
--   provider; category → FOCUS ServiceCategory; cloud_service → FOCUS ServiceName
--   (NULL provider, category or cloud service → 'unknown').
-- Figures, never summed across currencies (one row per currency):
--   effective_cost, billed_cost = sums; list_cost, contracted_cost = sums over the
--   lines that carry them (NULL when none does); savings = Σ (list_cost −
--   effective_cost) over the lines whose list cost is known (n_list of them).
-- n = cost lines (distinct lines; a line split over several teams counts once
--   per group it lands in).
WITH lines AS (
    SELECT
        CASE $scope
            WHEN 'org' THEN 'org'
            WHEN 'team' THEN team
            WHEN 'service' THEN COALESCE(service, 'unallocated')
            WHEN 'provider' THEN COALESCE(provider, 'unknown')
            WHEN 'category' THEN COALESCE(service_category, 'unknown')
            WHEN 'cloud_service' THEN COALESCE(cloud_service, 'unknown')
        END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, day) AS DATE) END AS period_start,
        currency,
        line_no,
        effective_cost,
        billed_cost,
        list_cost,
        contracted_cost
    FROM cost_lines
    WHERE day >= $from AND day < $to
)
SELECT
    scope_key,
    period_start,
    currency,
    count(DISTINCT line_no) AS n,
    sum(effective_cost) AS effective_cost,
    sum(billed_cost) AS billed_cost,
    sum(list_cost) AS list_cost,
    sum(contracted_cost) AS contracted_cost,
    sum(CASE WHEN list_cost IS NOT NULL THEN list_cost - effective_cost END) AS savings,
    count(DISTINCT CASE WHEN list_cost IS NOT NULL THEN line_no END) AS n_list
FROM lines
WHERE scope_key IS NOT NULL
GROUP BY scope_key, period_start, currency
ORDER BY scope_key, period_start, currency
