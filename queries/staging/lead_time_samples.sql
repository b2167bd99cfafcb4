-- name: lead_time_samples
-- description: One row per (production deployment, commit it shipped first) with every lead-time start point.
-- order: 2
-- phase: after_enrich
-- One row per (production deployment, commit it shipped first), with every possible
-- lead-time start point. deployment_commits is the effective table: rows a source
-- gave, else rows derived from the commit graph (the first deployment of a service
-- ships none). A commit is matched in the deployment's repo when that is known.
--
-- Pull-request times come from the commit row when a source filled them, else from
-- the merged pull request the commit belongs to (as its landed commit or as one of
-- its own commits); a commit in several merged PRs takes the earliest times.
WITH pr_membership AS (
    SELECT repo, merge_commit_sha AS commit_sha, created_at, merged_at
    FROM pull_requests
    WHERE merged_at IS NOT NULL AND merge_commit_sha IS NOT NULL
    UNION ALL
    SELECT repo, unnest(commit_shas) AS commit_sha, created_at, merged_at
    FROM pull_requests
    WHERE merged_at IS NOT NULL
),
pr_times AS (
    SELECT repo, commit_sha, min(created_at) AS pr_created_at, min(merged_at) AS pr_merged_at
    FROM pr_membership
    GROUP BY repo, commit_sha
)
SELECT
    d.deployment_id,
    d.service,
    d.team,
    d.finished_at,
    dc.commit_sha,
    dc.origin,
    c.authored_at,
    c.committed_at,
    COALESCE(c.pr_created_at, p.pr_created_at) AS pr_created_at,
    COALESCE(c.pr_merged_at, p.pr_merged_at) AS pr_merged_at
FROM deployment_commits dc
JOIN prod_deployments d ON d.deployment_id = dc.deployment_id
JOIN commits c ON c.commit_sha = dc.commit_sha AND (d.repo IS NULL OR c.repo = d.repo)
LEFT JOIN pr_times p ON p.commit_sha = c.commit_sha AND p.repo = c.repo
