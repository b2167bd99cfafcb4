-- name: rework_rate
-- unit: fraction
-- grains: window, week, month, quarter
-- scopes: org, team, service
-- description: Share of deployments that were unplanned rework (hotfix, rollback, or during an open incident).
-- order: 5
-- empty_zero: n, rework
-- empty_null: rate
-- headline: rate
-- gauge: rate northstar_rework_rate Share of deployments in the window that were unplanned rework.
-- Deployment rework rate per scope and period.
-- Parameters: $from, $to, $scope, $grain (as deployment_frequency).
-- n = deployments finished in the period; rework = those of kind hotfix or rollback,
-- or that finished while an incident of the same service was open
-- (deployment_outcomes.rework); rate = rework / n. DORA publishes no tiers for it.
WITH scoped AS (
    SELECT
        CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN team ELSE service END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, finished_at) AS DATE) END AS period_start,
        CASE WHEN rework THEN 1 ELSE 0 END AS rework
    FROM deployment_outcomes
    WHERE finished_at >= $from AND finished_at < $to
)
SELECT
    scope_key,
    period_start,
    count(*) AS n,
    sum(rework) AS rework,
    CAST(sum(rework) AS DOUBLE) / count(*) AS rate
FROM scoped
GROUP BY scope_key, period_start
ORDER BY scope_key, period_start
