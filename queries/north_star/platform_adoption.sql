-- name: platform_adoption
-- unit: fraction
-- grains: window, week, month, quarter
-- scopes: org, team, service
-- description: Share of catalog services on the platform and of deployments made through it.
-- order: 1
-- Platform adoption per scope and period: how much goes through the platform.
-- Parameters: $from, $to (timestamps, [from, to)), $scope ('org' | 'team' | 'service'),
--             $grain ('window' | 'week' | 'month' | 'quarter').
-- Services: catalog rows (`services`) created before the end of the period (by day;
--   no created_at = always there); on the platform when `on_platform` is true (NULL
--   counts as not). n = services; service_share = on the platform / n.
-- Deployments: successful production deployments (prod_deployments) finished in the
--   period; deployment_share = those with via_platform true / deployments (NULL when
--   there are none; via_platform NULL counts as not via the platform).
-- A group with deployments but no catalog row (an uncatalogued service) has n = 0 and
-- a NULL service_share.
WITH days AS (
    SELECT unnest(range(CAST($from AS DATE), CAST($to AS DATE), INTERVAL '1 day')) AS day
),
periods AS (
    SELECT
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, day) AS DATE) END AS period_start,
        CAST(max(day) + INTERVAL '1 day' AS DATE) AS period_end
    FROM days
    GROUP BY 1
),
catalog AS (
    SELECT
        CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN o.team ELSE s.service END AS scope_key,
        s.created_at,
        COALESCE(s.on_platform, false) AS on_platform
    FROM services s
    JOIN service_owners o ON o.service = s.service
),
facts AS (
    SELECT c.scope_key, p.period_start,
           1 AS service, CASE WHEN c.on_platform THEN 1 ELSE 0 END AS service_on,
           0 AS deployment, 0 AS deployment_via
    FROM catalog c
    CROSS JOIN periods p
    WHERE c.created_at IS NULL OR CAST(c.created_at AS DATE) < p.period_end
    UNION ALL
    SELECT
        CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN team ELSE service END,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, finished_at) AS DATE) END,
        0, 0,
        1, CASE WHEN via_platform THEN 1 ELSE 0 END
    FROM prod_deployments
    WHERE finished_at >= $from AND finished_at < $to
)
SELECT
    f.scope_key,
    f.period_start,
    p.period_end,
    sum(f.service) AS n,
    sum(f.service_on) AS services_on_platform,
    CAST(sum(f.service_on) AS DOUBLE) / NULLIF(sum(f.service), 0) AS service_share,
    sum(f.deployment) AS deployments,
    sum(f.deployment_via) AS deployments_via_platform,
    CAST(sum(f.deployment_via) AS DOUBLE) / NULLIF(sum(f.deployment), 0) AS deployment_share
FROM facts f
JOIN periods p ON p.period_start = f.period_start
GROUP BY f.scope_key, f.period_start, p.period_end
ORDER BY f.scope_key, f.period_start
