-- name: self_service_rate
-- unit: fraction
-- grains: window, week, month, quarter
-- scopes: org, team
-- description: Platform actions as a share of actions plus tickets, per request category.
-- order: 3
-- Self-service rate per scope, period and request category.
-- Parameters: $from, $to, $scope ('org' | 'team'; 'service' returns no rows: tickets
--             name no service), $grain.
-- actions = platform actions requested in the period (requested_at) that did not fail
--   (status NULL or not failed / failure / error / cancelled / canceled);
-- tickets = tickets created in the period (created_at).
-- Category: the row's `category` as given, 'uncategorised' when empty; one more row
--   per group with category 'all' sums every category.
-- Team: the action's `team` (else the owner of its service, else 'unowned'); the
--   ticket's requester_team (else 'unowned').
-- n = actions + tickets; rate = actions / n.
WITH facts AS (
    SELECT
        CASE WHEN $scope = 'org' THEN 'org'
             ELSE COALESCE(NULLIF(a.team, ''), o.team, 'unowned') END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, a.requested_at) AS DATE) END AS period_start,
        COALESCE(NULLIF(a.category, ''), 'uncategorised') AS category,
        1 AS action,
        0 AS ticket
    FROM platform_actions a
    LEFT JOIN service_owners o ON o.service = a.service
    WHERE a.requested_at >= $from AND a.requested_at < $to
      AND (a.status IS NULL
           OR lower(a.status) NOT IN ('failed', 'failure', 'error', 'cancelled', 'canceled'))
    UNION ALL
    SELECT
        CASE WHEN $scope = 'org' THEN 'org'
             ELSE COALESCE(NULLIF(requester_team, ''), 'unowned') END,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, created_at) AS DATE) END,
        COALESCE(NULLIF(category, ''), 'uncategorised'),
        0,
        1
    FROM tickets
    WHERE created_at >= $from AND created_at < $to
),
scoped AS (
    SELECT * FROM facts WHERE $scope IN ('org', 'team')
),
grouped AS (
    SELECT scope_key, period_start, category, sum(action) AS actions, sum(ticket) AS tickets
    FROM scoped
    GROUP BY scope_key, period_start, category
    UNION ALL
    SELECT scope_key, period_start, 'all', sum(action), sum(ticket)
    FROM scoped
    GROUP BY scope_key, period_start
)
SELECT
    scope_key,
    period_start,
    category,
    actions + tickets AS n,
    actions,
    tickets,
    CAST(actions AS DOUBLE) / (actions + tickets) AS rate
FROM grouped
ORDER BY scope_key, period_start, category
