-- One row per (production deployment, commit it shipped first), with every possible
-- lead-time start point. deployment_commits is the effective table: rows a source
-- gave, else rows derived from the commit graph (the first deployment of a service
-- ships none). A commit is matched in the deployment's repo when that is known.
SELECT
    d.deployment_id,
    d.service,
    d.team,
    d.finished_at,
    dc.commit_sha,
    dc.origin,
    c.authored_at,
    c.committed_at,
    c.pr_created_at,
    c.pr_merged_at
FROM deployment_commits dc
JOIN prod_deployments d ON d.deployment_id = dc.deployment_id
JOIN commits c ON c.commit_sha = dc.commit_sha AND (d.repo IS NULL OR c.repo = d.repo)
