-- name: anomalies
-- unit: currency
-- grains: day
-- scopes: team, service
-- description: Days whose effective cost is far from the same weekday's usual cost.
-- order: 5
-- Cost anomalies: days in the window whose effective cost is far from the same
-- weekday's usual cost, per team and per (team, service), per currency.
-- Parameters: $from, $to, $anomaly_threshold (default 3.5), $anomaly_min_amount
--   (default 50.0), $anomaly_min_ratio (default 0.1), $anomaly_weeks (default 8).
-- Keys (level): 'team' = a team's whole cost (service NULL; lines with no service
--   count here only); 'service' = a (team, service) pair with a service. A spike in
--   one service may therefore show at both levels.
-- Daily series: per key, a dense daily series from its first day with cost (looking
--   back at most $anomaly_weeks weeks before $from) to the last day with any cost
--   line (all keys, before $to: the export's last day). A day with no line of the
--   key in that span costs 0, so a key that stops spending shows as a drop; days
--   after the export's last day are not judged.
-- Expected: for a day d in the window, the history is the key's cost on d − 7,
--   d − 14, … d − 7 × $anomaly_weeks that lie in its series (n = how many weeks);
--   fewer than 3 → no verdict. expected = median(history); MAD = median(|history −
--   expected|). scale = MAD, or when MAD is 0 (a flat history) greatest(0.05 ×
--   |expected|, 0.01), so that a flat history does not make every cent an anomaly.
-- z = 0.6745 × (cost − expected) / scale (robust z-score); flagged when |z| ≥
--   $anomaly_threshold and |cost − expected| ≥ $anomaly_min_amount and ≥
--   $anomaly_min_ratio × |expected| (a steady, slowly growing series has a tiny MAD:
--   without the ratio a 3 % wobble would be "30 sigma"). Only flagged
--   days are returned, with low/high = expected ∓ threshold × scale / 0.6745 (the
--   band outside which |z| ≥ threshold) and direction 'spike' (above) or 'drop'.
WITH bounds AS (
    SELECT
        CAST(floor(extract(epoch FROM $from) / 86400) AS BIGINT) AS from_di,
        CAST(floor(extract(epoch FROM $from) / 86400) AS BIGINT)
            - 7 * CAST($anomaly_weeks AS BIGINT) AS lookback_di
),
lines AS (
    SELECT
        c.team,
        c.service,
        c.currency,
        CAST(floor(extract(epoch FROM c.day) / 86400) AS BIGINT) AS di,
        c.cost AS effective_cost
    FROM service_daily_costs c
    CROSS JOIN bounds b
    WHERE c.day < $to
      AND CAST(floor(extract(epoch FROM c.day) / 86400) AS BIGINT) >= b.lookback_di
),
daily AS (
    SELECT level, team, service, currency, di, cost, max(di) OVER () AS last_di
    FROM (
        SELECT
            CASE WHEN grouping(service) = 1 THEN 'team' ELSE 'service' END AS level,
            team,
            service,
            currency,
            di,
            sum(effective_cost) AS cost
        FROM lines
        GROUP BY GROUPING SETS ((team, currency, di), (team, service, currency, di))
    )
    WHERE level = 'team' OR service IS NOT NULL
),
spans AS (
    SELECT level, team, service, currency, min(di) AS first_di, max(last_di) AS last_di
    FROM daily
    GROUP BY level, team, service, currency
),
dense AS (
    SELECT level, team, service, currency, unnest(range(first_di, last_di + 1)) AS di
    FROM spans
),
series AS (
    SELECT
        s.level,
        s.team,
        s.service,
        s.currency,
        s.di,
        s.di % 7 AS weekday,
        COALESCE(d.cost, 0.0) AS cost
    FROM dense s
    LEFT JOIN daily d
        ON d.level = s.level AND d.team = s.team
       AND (d.service IS NOT DISTINCT FROM s.service)
       AND d.currency = s.currency AND d.di = s.di
),
history AS (
    SELECT t.level, t.team, t.service, t.currency, t.di, t.cost, h.cost AS past_cost
    FROM series t
    CROSS JOIN bounds b
    JOIN series h
        ON h.level = t.level AND h.team = t.team
       AND (h.service IS NOT DISTINCT FROM t.service)
       AND h.currency = t.currency AND h.weekday = t.weekday
    WHERE t.di >= b.from_di
      AND h.di < t.di
      AND h.di >= t.di - 7 * CAST($anomaly_weeks AS BIGINT)
),
centre AS (
    SELECT
        *,
        median(past_cost) OVER (PARTITION BY level, team, service, currency, di) AS expected,
        count(*) OVER (PARTITION BY level, team, service, currency, di) AS n
    FROM history
),
spread AS (
    SELECT
        level, team, service, currency, di, cost, expected, n,
        median(abs(past_cost - expected)) AS mad
    FROM centre
    WHERE n >= 3
    GROUP BY level, team, service, currency, di, cost, expected, n
),
scored AS (
    SELECT
        *,
        CASE WHEN mad > 0 THEN mad ELSE greatest(0.05 * abs(expected), 0.01) END AS scale
    FROM spread
),
judged AS (
    SELECT *, 0.6745 * (cost - expected) / scale AS z
    FROM scored
)
SELECT
    CAST(CAST(di AS INT) AS DATE) AS day,
    level,
    team,
    service,
    currency,
    n,
    cost,
    expected,
    expected - CAST($anomaly_threshold AS DOUBLE) * scale / 0.6745 AS low,
    expected + CAST($anomaly_threshold AS DOUBLE) * scale / 0.6745 AS high,
    mad,
    scale,
    z,
    CASE WHEN cost > expected THEN 'spike' ELSE 'drop' END AS direction
FROM judged
WHERE abs(z) >= CAST($anomaly_threshold AS DOUBLE)
  AND abs(cost - expected) >= CAST($anomaly_min_amount AS DOUBLE)
  AND abs(cost - expected) >= CAST($anomaly_min_ratio AS DOUBLE) * abs(expected)
ORDER BY day, level, team, service, currency
