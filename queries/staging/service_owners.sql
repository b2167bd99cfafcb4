-- name: service_owners
-- description: Every service northstar knows of (catalog, deployments, incidents) with its owning team.
-- order: 1
-- phase: before_enrich
-- Every service northstar knows of, with the team that owns it.
-- Services come from the catalog and from deployments and incidents, so a service
-- missing from the catalog is still counted: its team is 'unowned', never dropped.
SELECT s.service, COALESCE(MAX(c.team), 'unowned') AS team
FROM (
    SELECT service FROM services
    UNION SELECT service FROM deployments
    UNION SELECT service FROM incidents WHERE service IS NOT NULL
) s
LEFT JOIN services c ON c.service = s.service AND c.team IS NOT NULL AND c.team <> ''
GROUP BY s.service
