-- name: change_failure_rate_below
-- unit: fraction
-- description: Passed when the service's change failure rate is below $threshold.
-- order: 3
-- Scorecard check: change failure rate below a threshold.
-- Parameters: $from, $to, $threshold (a fraction: 0.15 = 15 %).
-- Services: every catalog row (`services`). value = failed ÷ successful production
--   deployments finished in [from, to) (deployment_outcomes, as dora/
--   change_failure_rate); passed when value < $threshold. No deployment: value NULL,
--   not passed (nothing shows the service changes safely).
WITH rates AS (
    SELECT service, avg(CASE WHEN failed THEN 1.0 ELSE 0.0 END) AS value
    FROM deployment_outcomes
    WHERE finished_at >= $from AND finished_at < $to
    GROUP BY service
)
SELECT
    s.service,
    r.value,
    COALESCE(r.value < $threshold, false) AS passed
FROM services s
LEFT JOIN rates r ON r.service = s.service
ORDER BY s.service
