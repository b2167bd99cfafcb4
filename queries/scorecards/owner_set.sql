-- name: owner_set
-- unit: none
-- description: Passed when the catalog names an owning team.
-- order: 4
-- Scorecard check: the catalog names an owning team.
-- Parameters: none read ($threshold is bound and ignored).
-- Services: every catalog row (`services`). value NULL; passed when `team` is set and
--   not blank.
SELECT
    service,
    CAST(NULL AS DOUBLE) AS value,
    COALESCE(trim(team) <> '', false) AS passed
FROM services
ORDER BY service
