-- name: ephemeral_environments
-- unit: environments
-- grains: window, week, month, quarter
-- scopes: org, team, service
-- description: Ephemeral (preview, review, per-PR) environments: how many, how long they live, and the share of merged PRs with one.
-- order: 7
-- Ephemeral (preview / review / per-PR) environments per scope and period.
-- Parameters: $from, $to, $scope ('org' | 'team' | 'service'), $grain.
-- Ephemeral deployment: a successful deployment with a finish time before $to,
--   env_tier 'development' or 'other', whose environment name starts with 'pr-',
--   'preview' or 'review' (any case: pr-123, preview-42, review/feature-x).
-- Environment: (service, environment name). It belongs to the period of its first
--   ephemeral deployment; environments = those first deployed in [from, to).
-- Lifetime: first to last deployment of the environment (before $to), in hours;
--   only environments with at least two deployments are timed (`timed`); one
--   deployment says nothing about when it was torn down.
-- deployments = ephemeral deployments finished in the period (any environment).
-- PRs: pull requests merged in the period; one "had an environment" when an
--   ephemeral environment of the same repository carries its number as the first
--   run of digits in its name. Scope of a PR: the team / service of the
--   repository's deployments ('unowned' when none deploys from it).
-- n = environments; pr_share = prs_with_environment / merged_prs (NULL with none).
-- Cost is not computed.
WITH ephemeral AS (
    SELECT
        d.repo,
        d.service,
        o.team,
        d.environment,
        d.finished_at
    FROM deployments d
    JOIN service_owners o ON o.service = d.service
    WHERE d.env_tier IN ('development', 'other')
      AND d.status = 'success'
      AND d.finished_at IS NOT NULL AND d.finished_at < $to
      AND (lower(d.environment) LIKE 'pr-%'
           OR lower(d.environment) LIKE 'preview%'
           OR lower(d.environment) LIKE 'review%')
),
environments AS (
    SELECT
        service,
        max(team) AS team,
        environment,
        min(finished_at) AS first_at,
        count(*) AS deployments,
        (extract(epoch FROM max(finished_at)) - extract(epoch FROM min(finished_at))) / 3600.0 AS span_hours
    FROM ephemeral
    GROUP BY service, environment
),
repo_scopes AS (
    SELECT DISTINCT
        d.repo,
        CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN o.team ELSE d.service END AS scope_key
    FROM deployments d
    JOIN service_owners o ON o.service = d.service
    WHERE d.repo IS NOT NULL
),
env_numbers AS (
    SELECT DISTINCT repo, TRY_CAST(regexp_match(environment, '([0-9]+)')[1] AS BIGINT) AS number
    FROM ephemeral
    WHERE repo IS NOT NULL
),
facts AS (
    SELECT
        CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN team ELSE service END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, first_at) AS DATE) END AS period_start,
        1 AS environment,
        CASE WHEN deployments >= 2 THEN span_hours END AS lifetime_hours,
        0 AS deployment,
        0 AS pr,
        0 AS pr_with_env
    FROM environments
    WHERE first_at >= $from
    UNION ALL
    SELECT
        CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN team ELSE service END,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, finished_at) AS DATE) END,
        0, CAST(NULL AS DOUBLE), 1, 0, 0
    FROM ephemeral
    WHERE finished_at >= $from
    UNION ALL
    SELECT
        COALESCE(r.scope_key, CASE WHEN $scope = 'org' THEN 'org' ELSE 'unowned' END),
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, p.merged_at) AS DATE) END,
        0, CAST(NULL AS DOUBLE), 0, 1,
        CASE WHEN e.number IS NOT NULL THEN 1 ELSE 0 END
    FROM pull_requests p
    LEFT JOIN repo_scopes r ON r.repo = p.repo
    LEFT JOIN env_numbers e ON e.repo = p.repo AND e.number = p.number
    WHERE p.merged_at >= $from AND p.merged_at < $to
)
SELECT
    scope_key,
    period_start,
    sum(environment) AS n,
    sum(environment) AS environments,
    count(lifetime_hours) AS timed,
    median(lifetime_hours) AS median_lifetime_hours,
    sum(deployment) AS deployments,
    sum(pr) AS merged_prs,
    sum(pr_with_env) AS prs_with_environment,
    CAST(sum(pr_with_env) AS DOUBLE) / NULLIF(sum(pr), 0) AS pr_share
FROM facts
GROUP BY scope_key, period_start
ORDER BY scope_key, period_start
