-- name: pull_request_times
-- description: The earliest creation and merge times of the merged pull requests each (repo, commit) belongs to.
-- order: 4
-- phase: before_enrich
-- One row per (repo, commit) that belongs to a merged pull request: the earliest
-- creation and merge times of those pull requests. A commit belongs to a pull request
-- as its landed (merge or squash) commit or as one of its own commits; a commit in
-- several merged pull requests takes the earliest times.
--
-- A table of its own (derived once, kept in the lake) rather than a step inside
-- lead_time_samples: there its aggregation ran beside the joins' build sides and, at
-- ten million commits, had to spill while they held the memory.
WITH pr_membership AS (
    SELECT repo, merge_commit_sha AS commit_sha, created_at, merged_at
    FROM pull_requests
    WHERE merged_at IS NOT NULL AND merge_commit_sha IS NOT NULL
    UNION ALL
    SELECT repo, unnest(commit_shas) AS commit_sha, created_at, merged_at
    FROM pull_requests
    WHERE merged_at IS NOT NULL
)
SELECT repo, commit_sha, min(created_at) AS pr_created_at, min(merged_at) AS pr_merged_at
FROM pr_membership
GROUP BY repo, commit_sha
