-- name: deployed_within_days
-- unit: days
-- description: Passed when the service's latest production deployment is at most $threshold days old.
-- order: 1
-- Scorecard check: deployed to production recently.
-- Parameters: $from (unused), $to (the evaluation instant), $threshold (days).
-- Services: every catalog row (`services`). value = days from the service's latest
--   successful production deployment (prod_deployments) finished before $to, to $to;
--   passed when value <= $threshold. Never deployed: value NULL, not passed.
WITH last_deployment AS (
    SELECT service, max(finished_at) AS last_at
    FROM prod_deployments
    WHERE finished_at < $to
    GROUP BY service
)
SELECT
    s.service,
    (extract(epoch FROM $to) - extract(epoch FROM l.last_at)) / 86400.0 AS value,
    COALESCE((extract(epoch FROM $to) - extract(epoch FROM l.last_at)) / 86400.0 <= $threshold, false) AS passed
FROM services s
LEFT JOIN last_deployment l ON l.service = s.service
ORDER BY s.service
