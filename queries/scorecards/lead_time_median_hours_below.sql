-- name: lead_time_median_hours_below
-- unit: hours
-- description: Passed when the service's median change lead time is below $threshold hours.
-- order: 2
-- Scorecard check: median change lead time below a threshold.
-- Parameters: $from, $to, $threshold (hours), $lead_time_start (as
--   queries/dora/lead_time.sql).
-- Services: every catalog row (`services`). value = the median lead time in hours of
--   the commits the service shipped to production in [from, to) (spans <= 0 dropped,
--   as in dora/lead_time); passed when value < $threshold. No sample: value NULL,
--   not passed.
WITH samples AS (
    SELECT
        service,
        (extract(epoch FROM finished_at) - extract(epoch FROM
            CASE $lead_time_start
                WHEN 'committed' THEN committed_at
                WHEN 'pr_created' THEN pr_created_at
                WHEN 'pr_merged' THEN pr_merged_at
                ELSE authored_at
            END)) / 3600.0 AS hours
    FROM lead_time_samples
    WHERE finished_at >= $from AND finished_at < $to
),
medians AS (
    SELECT service, median(hours) AS value
    FROM samples
    WHERE hours > 0
    GROUP BY service
)
SELECT
    s.service,
    m.value,
    COALESCE(m.value < $threshold, false) AS passed
FROM services s
LEFT JOIN medians m ON m.service = s.service
ORDER BY s.service
