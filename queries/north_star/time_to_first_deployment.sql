-- name: time_to_first_deployment
-- unit: hours
-- grains: window, week, month, quarter
-- scopes: org, team, service
-- description: Hours from a new service's catalog registration to its first production deployment.
-- order: 2
-- Time to first production deployment of a new service, per scope and period.
-- Parameters: $from, $to, $scope ('org' | 'team' | 'service'), $grain.
-- Services: catalog rows whose created_at is in [from, to); a service belongs to the
--   period it was created in. Its first deployment: the earliest successful
--   production deployment (prod_deployments) finished before $to, at any time before
--   that (a service deployed before its catalog registration gets 0 h).
-- hours = first deployment finish − created_at, floored at 0.
-- n = new services with a first deployment; pending = new services with none yet
-- (counted, not timed). median_hours (exact median) and p90_hours (interpolated like
-- PERCENTILE_CONT, by hand: see queries/dora/lead_time.sql); NULL when n = 0.
WITH first_deployment AS (
    SELECT service, min(finished_at) AS first_at
    FROM prod_deployments
    WHERE finished_at < $to
    GROUP BY service
),
born AS (
    SELECT
        CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN o.team ELSE s.service END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, s.created_at) AS DATE) END AS period_start,
        CASE WHEN f.first_at IS NOT NULL THEN
            greatest(0.0, (extract(epoch FROM f.first_at) - extract(epoch FROM s.created_at)) / 3600.0)
        END AS hours
    FROM services s
    JOIN service_owners o ON o.service = s.service
    LEFT JOIN first_deployment f ON f.service = s.service
    WHERE s.created_at >= $from AND s.created_at < $to
),
ranked AS (
    SELECT
        *,
        CAST(row_number() OVER (PARTITION BY scope_key, period_start ORDER BY hours NULLS LAST) - 1 AS DOUBLE) AS i,
        0.9 * CAST(count(hours) OVER (PARTITION BY scope_key, period_start) - 1 AS DOUBLE) AS p90_pos
    FROM born
)
SELECT
    scope_key,
    period_start,
    count(hours) AS n,
    count(*) - count(hours) AS pending,
    median(hours) AS median_hours,
    CASE WHEN count(hours) > 0 THEN sum(CASE
        WHEN hours IS NULL THEN 0
        WHEN i = floor(p90_pos) THEN hours * (1 - (p90_pos - floor(p90_pos)))
        WHEN i = floor(p90_pos) + 1 THEN hours * (p90_pos - floor(p90_pos))
        ELSE 0
    END) END AS p90_hours
FROM ranked
GROUP BY scope_key, period_start
ORDER BY scope_key, period_start
