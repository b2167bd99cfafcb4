-- name: cost_lines
-- description: One row per current cost line and allocation share, in the reporting currency where a rate is set.
-- order: 3
-- phase: after_enrich
-- One row per current cost line and allocation share (cost_allocation, computed
-- from the [cost] rules when the engine opens), in the reporting currency where
-- [cost] has a rate for the line's day, else in its billing currency. Every cost
-- query reads this view: amounts are the line's FOCUS amounts × share × rate.
-- line_no numbers the current lines densely (1, 2, …, in allocation order): the
-- queries count distinct lines by it, an integer, rather than by the 32-character
-- x_line_id (several times faster at millions of lines).
SELECT
    b.x_line_id,
    a.line_no,
    date_trunc('day', b."ChargePeriodStart") AS day,
    b."ChargePeriodStart" AS charge_start,
    b."BillingPeriodStart" AS billing_period_start,
    b.x_provider AS provider,
    b."BillingAccountId" AS billing_account_id,
    b."SubAccountId" AS sub_account_id,
    b."ServiceName" AS cloud_service,
    b."ServiceCategory" AS service_category,
    b."ChargeCategory" AS charge_category,
    b."PricingCategory" AS pricing_category,
    b."CommitmentDiscountId" AS commitment_discount_id,
    b."CommitmentDiscountStatus" AS commitment_discount_status,
    b."CommitmentDiscountType" AS commitment_discount_type,
    b."ResourceId" AS resource_id,
    a.team,
    a.service,
    a.allocation_rule,
    a.split_method,
    a.share,
    COALESCE(r.to_currency, b."BillingCurrency") AS currency,
    b."BillingCurrency" AS billing_currency,
    b."EffectiveCost" * a.share * COALESCE(r.rate, 1.0) AS effective_cost,
    b."BilledCost" * a.share * COALESCE(r.rate, 1.0) AS billed_cost,
    b."ListCost" * a.share * COALESCE(r.rate, 1.0) AS list_cost,
    b."ContractedCost" * a.share * COALESCE(r.rate, 1.0) AS contracted_cost
FROM billing_lines b
JOIN cost_allocation a ON a.x_line_id = b.x_line_id
LEFT JOIN exchange_rates r
    ON r.from_currency = b."BillingCurrency"
    AND b."ChargePeriodStart" >= r.valid_from
    AND b."ChargePeriodStart" < r.valid_to
