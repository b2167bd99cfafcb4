-- name: commitment_utilisation
-- unit: fraction
-- grains: month
-- scopes: org
-- description: Commitment discount utilisation per commitment, month and currency.
-- order: 7
-- Commitment discount utilisation per commitment, month and currency.
-- Parameters: $from, $to.
-- Lines: cost lines in the window (by day) with a CommitmentDiscountId and a
--   CommitmentDiscountStatus of 'Used' or 'Unused' (FOCUS: usage the commitment
--   covered, and the commitment's unused remainder, both at amortized cost); the
--   purchase lines themselves (status NULL) are left out. Months by the line's day.
-- used_cost = Σ effective_cost of Used lines; unused_cost = Σ effective_cost of
--   Unused lines; utilisation = used_cost / (used_cost + unused_cost), NULL when
--   that is 0. Allocation shares of a line add back up to the line.
-- n = lines (distinct lines).
SELECT
    commitment_discount_id,
    max(commitment_discount_type) AS commitment_discount_type,
    CAST(date_trunc('month', day) AS DATE) AS period_start,
    currency,
    count(DISTINCT line_no) AS n,
    COALESCE(sum(CASE WHEN commitment_discount_status = 'Used' THEN effective_cost END), 0.0)
        AS used_cost,
    COALESCE(sum(CASE WHEN commitment_discount_status = 'Unused' THEN effective_cost END), 0.0)
        AS unused_cost,
    COALESCE(sum(CASE WHEN commitment_discount_status = 'Used' THEN effective_cost END), 0.0)
        / NULLIF(sum(effective_cost), 0.0) AS utilisation
FROM cost_lines
WHERE day >= $from AND day < $to
  AND commitment_discount_id IS NOT NULL
  AND commitment_discount_status IN ('Used', 'Unused')
GROUP BY commitment_discount_id, CAST(date_trunc('month', day) AS DATE), currency
ORDER BY commitment_discount_id, period_start, currency
