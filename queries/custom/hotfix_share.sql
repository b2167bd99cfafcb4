-- name: hotfix_share
-- unit: fraction
-- description: Share of successful production deployments that are hotfixes (an example custom metric).
-- parameters: $from, $to, $scope ('org' | 'team' | 'service')
SELECT
    CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN team ELSE service END AS scope_key,
    count(*) AS n,
    sum(CASE WHEN kind = 'hotfix' THEN 1 ELSE 0 END) AS hotfixes,
    CAST(sum(CASE WHEN kind = 'hotfix' THEN 1 ELSE 0 END) AS DOUBLE) / count(*) AS rate
FROM prod_deployments
WHERE finished_at >= $from AND finished_at < $to
GROUP BY 1
ORDER BY 1
