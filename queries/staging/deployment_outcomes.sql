-- name: deployment_outcomes
-- description: Each production deployment with what happened after it: failed, recovered, rework.
-- order: 1
-- phase: after_enrich
-- One row per production deployment with what happened after it:
--   failed       an incident is linked to it (incident_links), or the next production
--                deployment of its service is a rollback;
--   recovered_at the latest resolved_at of its linked incidents (NULL while any is
--                unresolved); with no linked incident, the finish of the rollback;
--   unresolved   failed, with a linked incident still open;
--   rework       kind hotfix or rollback, or it finished while an incident of the
--                same service was open (started_at <= finished_at < resolved_at).
WITH linked AS (
    SELECT
        l.deployment_id,
        count(*) AS incidents,
        count(i.resolved_at) AS resolved,
        max(i.resolved_at) AS last_resolved_at
    FROM incident_links l
    JOIN incidents i ON i.incident_id = l.incident_id
    GROUP BY l.deployment_id
),
during_incident AS (
    SELECT DISTINCT d.deployment_id
    FROM prod_deployments d
    JOIN incidents i ON i.service = d.service
    WHERE i.started_at <= d.finished_at
      AND (i.resolved_at IS NULL OR i.resolved_at > d.finished_at)
)
SELECT
    d.deployment_id,
    d.service,
    d.team,
    d.finished_at,
    d.kind,
    COALESCE(k.incidents, 0) AS linked_incidents,
    (k.deployment_id IS NOT NULL OR COALESCE(d.next_kind = 'rollback', false)) AS failed,
    CASE
        WHEN k.deployment_id IS NOT NULL THEN k.resolved < k.incidents
        WHEN d.next_kind = 'rollback' THEN false
    END AS unresolved,
    CASE
        WHEN k.deployment_id IS NOT NULL THEN
            CASE WHEN k.resolved = k.incidents THEN k.last_resolved_at END
        WHEN d.next_kind = 'rollback' THEN d.next_finished_at
    END AS recovered_at,
    (d.kind IN ('hotfix', 'rollback') OR w.deployment_id IS NOT NULL) AS rework
FROM prod_deployments d
LEFT JOIN linked k ON k.deployment_id = d.deployment_id
LEFT JOIN during_incident w ON w.deployment_id = d.deployment_id
