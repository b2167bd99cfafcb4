-- name: dora_score
-- unit: score (0-10)
-- grains: window, week, month, quarter
-- scopes: org, team, service
-- description: A 0-10 score in the style of the DORA Quick Check, from the measured figures.
-- order: 8
-- DORA score (0–10) per scope and period in the style of the DORA Quick Check
-- (dora.dev quick-check, 2025 edition), from measured figures instead of answers.
-- Parameters: $from, $to, $scope ('org' | 'team' | 'service'), $grain,
--             $lead_time_start (as queries/dora/lead_time.sql).
-- Inputs (the same definitions as queries/dora/): deployments = successful
--   production deployments finished in the period (n); median lead time (hours > 0
--   samples, by $lead_time_start); deploys per day = n / days of the period inside
--   the window; change failure rate and rework rate (deployment_outcomes); median
--   recovery hours of the recovered failed deployments.
-- Quick Check: an answer 1 (worst) … 6 (best) scores (answer − 1) × 2. Buckets:
--   lead time and recovery (median hours): < 1 h → 6; < 1 day → 5; < 1 week → 4;
--     < 1 month (30 d) → 3; < 6 months (180 d) → 2; else 1;
--   deployment frequency (per day): ≥ 2 (on demand, several a day) → 6; ≥ 1 → 5;
--     ≥ 1/7 → 4; ≥ 1/30 → 3; ≥ 1/180 → 2; else 1 (compared in integers: n vs days);
--   change failure and rework: 10 × (1 − rate) (0 % → 10, 100 % → 0).
-- throughput_score = mean of lead time, deployment frequency and recovery scores;
-- stability_score = mean of change failure and rework scores; score = mean of the
-- five. A score with no input (e.g. no failed deployment → no recovery time) is
-- NULL and left out of the means (`scored` = how many of the five went in).
-- benchmark_*: the Quick Check's 2025 "all industries" means. Change failure, rework
-- and stability are published on the instability scale and shown by the Quick Check
-- as 10 − mean; they are given here the same way (10 − 1.9, 10 − 2.2, 10 − 2.1).
-- benchmark_score is the published performance_average (4.3) as is.
WITH days AS (
    SELECT unnest(range(CAST($from AS DATE), CAST($to AS DATE), INTERVAL '1 day')) AS day
),
periods AS (
    SELECT
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, day) AS DATE) END AS period_start,
        count(*) AS days
    FROM days
    GROUP BY 1
),
outcomes AS (
    SELECT
        CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN team ELSE service END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, finished_at) AS DATE) END AS period_start,
        CASE WHEN failed THEN 1 ELSE 0 END AS failed,
        CASE WHEN rework THEN 1 ELSE 0 END AS rework,
        CASE WHEN failed AND recovered_at IS NOT NULL THEN
            greatest(0.0, (extract(epoch FROM recovered_at) - extract(epoch FROM finished_at)) / 3600.0)
        END AS recovery_hours
    FROM deployment_outcomes
    WHERE finished_at >= $from AND finished_at < $to
),
delivery AS (
    SELECT
        scope_key,
        period_start,
        count(*) AS n,
        CAST(sum(failed) AS DOUBLE) / count(*) AS change_failure_rate,
        CAST(sum(rework) AS DOUBLE) / count(*) AS rework_rate,
        median(recovery_hours) AS median_recovery_hours
    FROM outcomes
    GROUP BY scope_key, period_start
),
lead_samples AS (
    SELECT
        CASE $scope WHEN 'org' THEN 'org' WHEN 'team' THEN team ELSE service END AS scope_key,
        CASE WHEN $grain = 'window' THEN CAST($from AS DATE)
             ELSE CAST(date_trunc($grain, finished_at) AS DATE) END AS period_start,
        (extract(epoch FROM finished_at) - extract(epoch FROM
            CASE $lead_time_start
                WHEN 'committed' THEN committed_at
                WHEN 'pr_created' THEN pr_created_at
                WHEN 'pr_merged' THEN pr_merged_at
                ELSE authored_at
            END)) / 3600.0 AS hours
    FROM lead_time_samples
    WHERE finished_at >= $from AND finished_at < $to
),
lead AS (
    SELECT scope_key, period_start, median(hours) AS median_lead_hours
    FROM lead_samples
    WHERE hours > 0
    GROUP BY scope_key, period_start
),
inputs AS (
    SELECT
        d.scope_key,
        d.period_start,
        d.n,
        p.days,
        CAST(d.n AS DOUBLE) / p.days AS deploys_per_day,
        l.median_lead_hours,
        d.median_recovery_hours,
        d.change_failure_rate,
        d.rework_rate
    FROM delivery d
    JOIN periods p ON p.period_start = d.period_start
    LEFT JOIN lead l ON l.scope_key = d.scope_key AND l.period_start = d.period_start
),
scored AS (
    SELECT
        *,
        CAST(CASE
            WHEN median_lead_hours IS NULL THEN NULL
            WHEN median_lead_hours < 1 THEN 10
            WHEN median_lead_hours < 24 THEN 8
            WHEN median_lead_hours < 24 * 7 THEN 6
            WHEN median_lead_hours < 24 * 30 THEN 4
            WHEN median_lead_hours < 24 * 180 THEN 2
            ELSE 0
        END AS DOUBLE) AS lead_time_score,
        CAST(CASE
            WHEN n >= 2 * days THEN 10
            WHEN n >= days THEN 8
            WHEN 7 * n >= days THEN 6
            WHEN 30 * n >= days THEN 4
            WHEN 180 * n >= days THEN 2
            ELSE 0
        END AS DOUBLE) AS deployment_frequency_score,
        CAST(CASE
            WHEN median_recovery_hours IS NULL THEN NULL
            WHEN median_recovery_hours < 1 THEN 10
            WHEN median_recovery_hours < 24 THEN 8
            WHEN median_recovery_hours < 24 * 7 THEN 6
            WHEN median_recovery_hours < 24 * 30 THEN 4
            WHEN median_recovery_hours < 24 * 180 THEN 2
            ELSE 0
        END AS DOUBLE) AS recovery_score,
        10.0 * (1.0 - change_failure_rate) AS change_failure_score,
        10.0 * (1.0 - rework_rate) AS rework_score
    FROM inputs
)
SELECT
    scope_key,
    period_start,
    n,
    deploys_per_day,
    median_lead_hours,
    median_recovery_hours,
    change_failure_rate,
    rework_rate,
    lead_time_score,
    deployment_frequency_score,
    recovery_score,
    change_failure_score,
    rework_score,
    (COALESCE(lead_time_score, 0) + deployment_frequency_score + COALESCE(recovery_score, 0))
        / (1 + CASE WHEN lead_time_score IS NULL THEN 0 ELSE 1 END
             + CASE WHEN recovery_score IS NULL THEN 0 ELSE 1 END) AS throughput_score,
    (change_failure_score + rework_score) / 2.0 AS stability_score,
    (COALESCE(lead_time_score, 0) + deployment_frequency_score + COALESCE(recovery_score, 0)
        + change_failure_score + rework_score)
        / (3 + CASE WHEN lead_time_score IS NULL THEN 0 ELSE 1 END
             + CASE WHEN recovery_score IS NULL THEN 0 ELSE 1 END) AS score,
    3 + CASE WHEN lead_time_score IS NULL THEN 0 ELSE 1 END
      + CASE WHEN recovery_score IS NULL THEN 0 ELSE 1 END AS scored,
    4.3 AS benchmark_score,
    6.0 AS benchmark_throughput_score,
    7.9 AS benchmark_stability_score,
    5.5 AS benchmark_lead_time_score,
    4.8 AS benchmark_deployment_frequency_score,
    7.4 AS benchmark_recovery_score,
    8.1 AS benchmark_change_failure_score,
    7.8 AS benchmark_rework_score
FROM scored
ORDER BY scope_key, period_start
