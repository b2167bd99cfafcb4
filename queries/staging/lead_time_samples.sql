-- name: lead_time_samples
-- description: One row per (production deployment, commit it shipped first) with every lead-time start point.
-- order: 2
-- phase: after_enrich
-- One row per (production deployment, commit it shipped first), with every possible
-- lead-time start point. deployment_commits is the effective table: rows a source
-- gave, else rows derived from the commit graph (the first deployment of a service
-- ships none). A commit is matched in the deployment's repo when that is known.
-- (The two cases are two joins on equal keys rather than one join with an `OR` in
-- its condition: at scale these joins run as sort-merge joins, which spill, and
-- DataFusion 55's sort-merge join mislays columns of a non-equality condition.)
--
-- Pull-request times come from the commit row when a source filled them, else from
-- the merged pull requests the commit belongs to (pull_request_times).
WITH shipped AS (
    SELECT d.deployment_id, d.service, d.team, d.finished_at, d.repo, dc.commit_sha, dc.origin
    FROM deployment_commits dc
    JOIN prod_deployments d ON d.deployment_id = dc.deployment_id
),
matched AS (
    SELECT s.*, c.repo AS commit_repo, c.authored_at, c.committed_at, c.pr_created_at, c.pr_merged_at
    FROM shipped s
    JOIN commits c ON c.commit_sha = s.commit_sha AND c.repo = s.repo
    UNION ALL
    SELECT s.*, c.repo AS commit_repo, c.authored_at, c.committed_at, c.pr_created_at, c.pr_merged_at
    FROM shipped s
    JOIN commits c ON c.commit_sha = s.commit_sha
    WHERE s.repo IS NULL
)
SELECT
    m.deployment_id, m.service, m.team, m.finished_at, m.commit_sha, m.origin,
    m.authored_at, m.committed_at,
    COALESCE(m.pr_created_at, p.pr_created_at) AS pr_created_at,
    COALESCE(m.pr_merged_at, p.pr_merged_at) AS pr_merged_at
FROM matched m
LEFT JOIN pull_request_times p ON p.commit_sha = m.commit_sha AND p.repo = m.commit_repo
