-- name: ticket_wait_time
-- unit: hours
-- grains: window, week, month, quarter
-- scopes: org, team
-- description: Hours tickets spent waiting, and their lead time from creation to resolution.
-- order: 5
-- Ticket waiting time and lead time per scope and period.
-- Parameters: $from, $to, $scope ('org' | 'team'; 'service' returns no rows), $grain.
-- Tickets: created in the period (created_at); team = requester_team (else 'unowned').
-- Waiting: a status is "waiting" when its name contains 'wait' (any case) or its
--   category (to_category) is 'new'. Each transition starts an interval in its
--   to_status that ends at the ticket's next transition; the last one ends at the
--   ticket's resolution, or at $to while unresolved; every interval is cut at that
--   end (resolved_at, else $to). wait_hours = the sum over waiting intervals.
--   Tickets without any transition (e.g. ServiceNow) are counted in n, not timed.
-- Lead time: resolved_at − created_at for tickets resolved before $to.
-- n = tickets; waited = tickets with a status history; resolved = tickets with a
-- lead time. Medians exact; p85 interpolated like PERCENTILE_CONT (by hand).
WITH scoped AS (
    SELECT
        ticket_id,
        CASE WHEN $scope = 'org' THEN 'org'
             ELSE COALESCE(NULLIF(requester_team, ''), 'unowned') END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, created_at) AS DATE) END AS period_start,
        created_at,
        CASE WHEN resolved_at IS NOT NULL AND resolved_at < $to THEN resolved_at END AS resolved_at,
        CASE WHEN resolved_at IS NOT NULL AND resolved_at < $to THEN resolved_at ELSE $to END AS end_at
    FROM tickets
    WHERE created_at >= $from AND created_at < $to
      AND $scope IN ('org', 'team')
),
intervals AS (
    SELECT
        ticket_id,
        at,
        (lower(to_status) LIKE '%wait%' OR COALESCE(to_category = 'new', false)) AS waiting,
        lead(at) OVER (PARTITION BY ticket_id ORDER BY at, to_status) AS next_at
    FROM ticket_transitions
),
waits AS (
    SELECT
        s.ticket_id,
        sum(CASE WHEN i.waiting THEN greatest(0.0, (extract(epoch FROM
                CASE WHEN i.next_at IS NOT NULL AND i.next_at < s.end_at THEN i.next_at ELSE s.end_at END)
                - extract(epoch FROM i.at)) / 3600.0)
            ELSE 0.0 END) AS wait_hours
    FROM scoped s
    JOIN intervals i ON i.ticket_id = s.ticket_id
    GROUP BY s.ticket_id
),
per_ticket AS (
    SELECT
        s.scope_key,
        s.period_start,
        w.wait_hours,
        (extract(epoch FROM s.resolved_at) - extract(epoch FROM s.created_at)) / 3600.0 AS lead_hours
    FROM scoped s
    LEFT JOIN waits w ON w.ticket_id = s.ticket_id
),
ranked AS (
    SELECT
        *,
        CAST(row_number() OVER (PARTITION BY scope_key, period_start ORDER BY wait_hours NULLS LAST) - 1 AS DOUBLE) AS wi,
        0.85 * CAST(count(wait_hours) OVER (PARTITION BY scope_key, period_start) - 1 AS DOUBLE) AS w_pos,
        CAST(row_number() OVER (PARTITION BY scope_key, period_start ORDER BY lead_hours NULLS LAST) - 1 AS DOUBLE) AS li,
        0.85 * CAST(count(lead_hours) OVER (PARTITION BY scope_key, period_start) - 1 AS DOUBLE) AS l_pos
    FROM per_ticket
)
SELECT
    scope_key,
    period_start,
    count(*) AS n,
    count(wait_hours) AS waited,
    median(wait_hours) AS median_wait_hours,
    CASE WHEN count(wait_hours) > 0 THEN sum(CASE
        WHEN wait_hours IS NULL THEN 0
        WHEN wi = floor(w_pos) THEN wait_hours * (1 - (w_pos - floor(w_pos)))
        WHEN wi = floor(w_pos) + 1 THEN wait_hours * (w_pos - floor(w_pos))
        ELSE 0
    END) END AS p85_wait_hours,
    count(lead_hours) AS resolved,
    median(lead_hours) AS median_lead_hours,
    CASE WHEN count(lead_hours) > 0 THEN sum(CASE
        WHEN lead_hours IS NULL THEN 0
        WHEN li = floor(l_pos) THEN lead_hours * (1 - (l_pos - floor(l_pos)))
        WHEN li = floor(l_pos) + 1 THEN lead_hours * (l_pos - floor(l_pos))
        ELSE 0
    END) END AS p85_lead_hours
FROM ranked
GROUP BY scope_key, period_start
ORDER BY scope_key, period_start
