-- name: ticket_ops
-- unit: tickets per 100 developers
-- grains: window, week, month, quarter
-- scopes: org, team
-- description: Tickets to the infrastructure and platform teams per 100 developers, per request category.
-- order: 4
-- Ticket ops: tickets to the infrastructure / platform teams per 100 developers, per
-- scope, period and request category.
-- Parameters: $from, $to, $scope ('org' | 'team'; 'service' returns no rows), $grain,
--             $developers (an integer or NULL).
-- tickets = rows of `tickets` created in the period (the tickets table holds only
--   the service-desk requests a source maps, i.e. requests to infra/platform teams);
--   category as given, 'uncategorised' when empty, plus a row with category 'all'.
--   Team: requester_team (else 'unowned').
-- developers = distinct commit authors (not is_bot, not ending in '[bot]', not empty)
--   with a commit authored in the period; for a team, authors of commits in the
--   repositories its services deploy from (a repository no deployment names counts
--   for 'unowned'). $developers (`[north_star] developers`, NULL when not
--   configured) replaces the org's count, in every period; teams keep the count.
-- n = tickets; per_100_developers = 100 × tickets / developers (NULL with none).
WITH tickets_in AS (
    SELECT
        CASE WHEN $scope = 'org' THEN 'org'
             ELSE COALESCE(NULLIF(requester_team, ''), 'unowned') END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, created_at) AS DATE) END AS period_start,
        COALESCE(NULLIF(category, ''), 'uncategorised') AS category
    FROM tickets
    WHERE created_at >= $from AND created_at < $to
      AND $scope IN ('org', 'team')
),
grouped AS (
    SELECT scope_key, period_start, category, count(*) AS tickets
    FROM tickets_in
    GROUP BY scope_key, period_start, category
    UNION ALL
    SELECT scope_key, period_start, 'all', count(*)
    FROM tickets_in
    GROUP BY scope_key, period_start
),
repo_teams AS (
    SELECT DISTINCT d.repo, o.team
    FROM deployments d
    JOIN service_owners o ON o.service = d.service
    WHERE d.repo IS NOT NULL
),
authors AS (
    SELECT DISTINCT
        CASE WHEN $scope = 'org' THEN 'org' ELSE COALESCE(r.team, 'unowned') END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, c.authored_at) AS DATE) END AS period_start,
        c.author
    FROM commits c
    LEFT JOIN repo_teams r ON r.repo = c.repo
    WHERE c.authored_at >= $from AND c.authored_at < $to
      AND c.author IS NOT NULL AND c.author <> ''
      AND NOT COALESCE(c.is_bot, false)
      AND c.author NOT LIKE '%[bot]'
),
developers AS (
    SELECT scope_key, period_start, count(*) AS developers
    FROM authors
    GROUP BY scope_key, period_start
)
SELECT
    g.scope_key,
    g.period_start,
    g.category,
    g.tickets AS n,
    g.tickets,
    COALESCE(c.developers, d.developers, 0) AS developers,
    100.0 * g.tickets / NULLIF(COALESCE(c.developers, d.developers), 0) AS per_100_developers
FROM grouped g
LEFT JOIN developers d ON d.scope_key = g.scope_key AND d.period_start = g.period_start
LEFT JOIN (
    SELECT 'org' AS scope_key, CAST($developers AS BIGINT) AS developers
) c ON c.scope_key = g.scope_key
ORDER BY g.scope_key, g.period_start, g.category
