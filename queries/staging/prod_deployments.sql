-- name: prod_deployments
-- description: A deployment in every DORA metric: a successful production deployment with its team and the next one of its service.
-- order: 2
-- phase: before_enrich
-- "A deployment" in every DORA metric: a successful production deployment with a
-- finish time, its owning team, and the next such deployment of the same service
-- (a rollback as the next deployment marks this one failed).
SELECT
    d.deployment_id,
    d.service,
    o.team,
    d.repo,
    d.commit_sha,
    d.started_at,
    d.finished_at,
    d.kind,
    d.via_platform,
    LEAD(d.kind) OVER (PARTITION BY d.service ORDER BY d.finished_at, d.deployment_id) AS next_kind,
    LEAD(d.finished_at) OVER (PARTITION BY d.service ORDER BY d.finished_at, d.deployment_id) AS next_finished_at,
    LEAD(d.deployment_id) OVER (PARTITION BY d.service ORDER BY d.finished_at, d.deployment_id) AS next_deployment_id
FROM deployments d
JOIN service_owners o ON o.service = d.service
WHERE d.env_tier = 'production'
  AND d.status = 'success'
  AND d.finished_at IS NOT NULL
