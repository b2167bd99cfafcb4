-- name: provisioning_lead_time
-- unit: hours
-- grains: window, week, month, quarter
-- scopes: org, team
-- description: Environment provisioning lead time by the ticket path and the self-service path.
-- order: 6
-- Environment provisioning lead time per scope and period: the ticket path and the
-- self-service path side by side (one row per path).
-- Parameters: $from, $to, $scope ('org' | 'team'; 'service' returns no rows), $grain.
-- ticket path: tickets whose category contains 'env' (any case: 'environment'),
--   created in the period; hours = resolved_at − created_at when resolved before $to.
-- self_service path: platform actions whose category contains 'env', requested in
--   the period and not failed (as self_service_rate); hours = completed_at −
--   requested_at when completed before $to.
-- Durations floored at 0. Team: requester_team for tickets; the action's team (else
-- its service's owner) for actions; else 'unowned'.
-- n = timed requests; pending = requests of the period not yet resolved/completed.
-- median_hours exact; p90_hours interpolated like PERCENTILE_CONT (by hand).
WITH samples AS (
    SELECT
        CASE WHEN $scope = 'org' THEN 'org'
             ELSE COALESCE(NULLIF(requester_team, ''), 'unowned') END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, created_at) AS DATE) END AS period_start,
        'ticket' AS path,
        CASE WHEN resolved_at IS NOT NULL AND resolved_at < $to THEN
            greatest(0.0, (extract(epoch FROM resolved_at) - extract(epoch FROM created_at)) / 3600.0)
        END AS hours
    FROM tickets
    WHERE created_at >= $from AND created_at < $to
      AND lower(category) LIKE '%env%'
    UNION ALL
    SELECT
        CASE WHEN $scope = 'org' THEN 'org'
             ELSE COALESCE(NULLIF(a.team, ''), o.team, 'unowned') END,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, a.requested_at) AS DATE) END,
        'self_service',
        CASE WHEN a.completed_at IS NOT NULL AND a.completed_at < $to THEN
            greatest(0.0, (extract(epoch FROM a.completed_at) - extract(epoch FROM a.requested_at)) / 3600.0)
        END
    FROM platform_actions a
    LEFT JOIN service_owners o ON o.service = a.service
    WHERE a.requested_at >= $from AND a.requested_at < $to
      AND lower(a.category) LIKE '%env%'
      AND (a.status IS NULL
           OR lower(a.status) NOT IN ('failed', 'failure', 'error', 'cancelled', 'canceled'))
),
ranked AS (
    SELECT
        *,
        CAST(row_number() OVER (PARTITION BY scope_key, period_start, path ORDER BY hours NULLS LAST) - 1 AS DOUBLE) AS i,
        0.9 * CAST(count(hours) OVER (PARTITION BY scope_key, period_start, path) - 1 AS DOUBLE) AS p90_pos
    FROM samples
    WHERE $scope IN ('org', 'team')
)
SELECT
    scope_key,
    period_start,
    path,
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
GROUP BY scope_key, period_start, path
ORDER BY scope_key, period_start, path
