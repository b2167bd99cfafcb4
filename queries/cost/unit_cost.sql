-- name: unit_cost
-- unit: currency per unit
-- grains: window, month
-- scopes: org, team, service
-- description: Effective cost per production deployment and per developer.
-- order: 6
-- Unit cost: effective cost per production deployment and per developer.
-- Parameters: $from, $to, $scope ('org' | 'team' | 'service'; others return no rows),
--             $grain ('month' | 'window'; 'week' and 'day' work the same way),
--             $developers (an integer or NULL).
-- cost = effective cost of the lines in the period (by day, as queries/cost/costs.sql),
--   per currency; scope keys as there (a line with no service → 'unallocated').
-- deployments = prod_deployments finished in the period (as the DORA queries), by
--   the owning team (service_owners) or service; a cost key with none has 0.
-- cost_per_deployment = cost / deployments, NULL with 0 deployments.
-- developers (org only; NULL for teams and services): $developers (`[north_star]
--   developers`) when set, else the distinct commit authors with a commit authored
--   in the period (not is_bot, not ending in '[bot]', not empty), as
--   queries/north_star/ticket_ops.sql. cost_per_developer = cost / developers.
-- Rows: every (scope key, period, currency) with cost. n = deployments.
WITH costs AS (
    SELECT
        CASE $scope
            WHEN 'org' THEN 'org'
            WHEN 'team' THEN team
            WHEN 'service' THEN COALESCE(service, 'unallocated')
        END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, day) AS DATE) END AS period_start,
        currency,
        sum(effective_cost) AS cost
    FROM cost_lines
    WHERE day >= $from AND day < $to
    GROUP BY 1, 2, 3
),
deploys AS (
    SELECT
        CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN team ELSE service END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, finished_at) AS DATE) END AS period_start,
        count(*) AS deployments
    FROM prod_deployments
    WHERE finished_at >= $from AND finished_at < $to
    GROUP BY 1, 2
),
authors AS (
    SELECT DISTINCT
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, authored_at) AS DATE) END AS period_start,
        author
    FROM commits
    WHERE authored_at >= $from AND authored_at < $to
      AND author IS NOT NULL AND author <> ''
      AND NOT COALESCE(is_bot, false)
      AND author NOT LIKE '%[bot]'
),
developers AS (
    SELECT
        p.period_start,
        COALESCE(CAST($developers AS BIGINT), count(a.author)) AS developers
    FROM (SELECT DISTINCT period_start FROM costs) p
    LEFT JOIN authors a ON a.period_start = p.period_start
    GROUP BY p.period_start
)
SELECT
    c.scope_key,
    c.period_start,
    c.currency,
    COALESCE(d.deployments, 0) AS n,
    c.cost,
    COALESCE(d.deployments, 0) AS deployments,
    c.cost / NULLIF(d.deployments, 0) AS cost_per_deployment,
    CASE WHEN c.scope_key = 'org' AND $scope = 'org' THEN v.developers END AS developers,
    CASE WHEN c.scope_key = 'org' AND $scope = 'org' THEN c.cost / NULLIF(v.developers, 0) END
        AS cost_per_developer
FROM costs c
LEFT JOIN deploys d ON d.scope_key = c.scope_key AND d.period_start = c.period_start
LEFT JOIN developers v ON v.period_start = c.period_start
WHERE c.scope_key IS NOT NULL
ORDER BY c.scope_key, c.period_start, c.currency
