-- name: consistency
-- description: FOCUS conformance, consistency family: relations between columns and between lines.
-- order: 5
-- FOCUS conformance, consistency family: relations between columns of a line, and
-- between lines (ids from the FOCUS validator's model-1.2.json; ChargePeriodStart-X-001-O
-- is northstar's own check, not in the model).
-- Parameters: none.
-- Lines: the current cost lines (`costs` joined to the `cost_imports` that are
--   current) whose columns the rule reads are set.
--   ChargePeriodEnd-C-004-M / BillingPeriodEnd-C-004-M: the end is an exclusive bound,
--     so it is after the start (the model's dynamic rule, checked statically).
--   ChargePeriodStart-X-001-O: the charge starts within its billing period
--     [BillingPeriodStart, BillingPeriodEnd); corrections (ChargeClass "Correction")
--     may restate an earlier period and are not checked.
--   Money equalities allow 0.01 or a relative 1e-6 of the expected value, whichever
--     is larger: exports round and multiply in floating point.
--   EffectiveCost-C-005-C: on commitment purchases (Purchase with a
--     CommitmentDiscountId), which cover future charges and are amortised.
-- Groups: ServiceName-C-005-C and SkuPriceId-C-008-M count distinct values per
--   provider (x_provider) and ServiceName / SkuPriceId; the example is the name or id.
-- Output: one row per rule: checked = lines (groups) the rule applies to,
--   violations = those breaking it, example = the smallest x_line_id (name, id) among
--   them, NULL when none.
WITH lines AS (
    SELECT
        c.*,
        COALESCE(c."ChargeClass", '') = 'Correction' AS correction
    FROM costs c
    JOIN cost_imports i ON c.x_import_id = i.import_id
),
rules AS (
    SELECT column1 AS rule_id, column2 AS focus_column, column3 AS requirement
    FROM (VALUES
        ('ChargePeriodEnd-C-004-M', 'ChargePeriodEnd',
         'ChargePeriodEnd MUST be the exclusive end of the charge period, after its start.'),
        ('BillingPeriodEnd-C-004-M', 'BillingPeriodEnd',
         'BillingPeriodEnd MUST be the exclusive end of the billing period, after its start.'),
        ('ChargePeriodStart-X-001-O', 'ChargePeriodStart',
         'A charge SHOULD start within its billing period, unless it is a correction.'),
        ('EffectiveCost-C-010-C', 'EffectiveCost',
         'EffectiveCost of a charge unrelated to others (Credit) MUST match BilledCost.'),
        ('ListCost-C-008-C', 'ListCost',
         'ListCost of a charge unrelated to others (Credit) MUST match BilledCost.'),
        ('ContractedCost-C-008-C', 'ContractedCost',
         'ContractedCost of a charge unrelated to others (Credit) MUST match BilledCost.'),
        ('ListCost-C-009-C', 'ListCost',
         'ListUnitPrice x PricingQuantity MUST match ListCost (not corrections).'),
        ('ContractedUnitPrice-C-011-C', 'ContractedCost',
         'ContractedUnitPrice x PricingQuantity MUST match ContractedCost (not corrections).'),
        ('ListUnitPrice-C-008-M', 'ListUnitPrice',
         'ListUnitPrice MUST be a non-negative decimal value.'),
        ('ContractedUnitPrice-C-009-C', 'ContractedUnitPrice',
         'ContractedUnitPrice MUST be a non-negative decimal value.'),
        ('EffectiveCost-C-005-C', 'EffectiveCost',
         'EffectiveCost MUST be 0 on a Purchase covering future charges (commitment purchase).'),
        ('ChargeFrequency-C-004-C', 'ChargeFrequency',
         'ChargeFrequency MUST NOT be "Usage-Based" when ChargeCategory is "Purchase".'),
        ('CommitmentDiscountStatus-C-003-C', 'CommitmentDiscountStatus',
         'CommitmentDiscountStatus MUST be null when CommitmentDiscountId is null.'),
        ('CommitmentDiscountStatus-C-004-C', 'CommitmentDiscountStatus',
         'CommitmentDiscountStatus MUST NOT be null on Usage lines with a CommitmentDiscountId.'),
        ('CommitmentDiscountCategory-C-003-C', 'CommitmentDiscountCategory',
         'CommitmentDiscountCategory MUST be null when CommitmentDiscountId is null.'),
        ('CommitmentDiscountCategory-C-004-C', 'CommitmentDiscountCategory',
         'CommitmentDiscountCategory MUST NOT be null when CommitmentDiscountId is not null.'),
        ('ServiceName-C-005-C', 'ServiceName',
         'ServiceName MUST have one and only one ServiceCategory.'),
        ('SkuPriceId-C-008-M', 'SkuPriceId', 'SkuPriceId MUST have one and only one parent SkuId.')
    )
),
-- One verdict per line and rule: failed is NULL where the rule does not apply.
line_verdicts AS (
    SELECT x_line_id AS subject, unnest(make_array(
        named_struct('rule_id', 'ChargePeriodEnd-C-004-M', 'failed',
            "ChargePeriodEnd" <= "ChargePeriodStart"),
        named_struct('rule_id', 'BillingPeriodEnd-C-004-M', 'failed',
            "BillingPeriodEnd" <= "BillingPeriodStart"),
        named_struct('rule_id', 'ChargePeriodStart-X-001-O', 'failed',
            CASE WHEN NOT correction
                 THEN "ChargePeriodStart" < "BillingPeriodStart"
                      OR "ChargePeriodStart" >= "BillingPeriodEnd" END),
        named_struct('rule_id', 'EffectiveCost-C-010-C', 'failed',
            CASE WHEN "ChargeCategory" = 'Credit'
                 THEN abs("EffectiveCost" - "BilledCost")
                      > greatest(0.01, 1e-6 * abs("BilledCost")) END),
        named_struct('rule_id', 'ListCost-C-008-C', 'failed',
            CASE WHEN "ChargeCategory" = 'Credit' AND NOT correction
                 THEN abs("ListCost" - "BilledCost")
                      > greatest(0.01, 1e-6 * abs("BilledCost")) END),
        named_struct('rule_id', 'ContractedCost-C-008-C', 'failed',
            CASE WHEN "ChargeCategory" = 'Credit' AND NOT correction
                 THEN abs("ContractedCost" - "BilledCost")
                      > greatest(0.01, 1e-6 * abs("BilledCost")) END),
        named_struct('rule_id', 'ListCost-C-009-C', 'failed',
            CASE WHEN NOT correction
                 THEN abs("ListUnitPrice" * "PricingQuantity" - "ListCost")
                      > greatest(0.01, 1e-6 * abs("ListCost")) END),
        named_struct('rule_id', 'ContractedUnitPrice-C-011-C', 'failed',
            CASE WHEN NOT correction
                 THEN abs("ContractedUnitPrice" * "PricingQuantity" - "ContractedCost")
                      > greatest(0.01, 1e-6 * abs("ContractedCost")) END),
        named_struct('rule_id', 'ListUnitPrice-C-008-M', 'failed', "ListUnitPrice" < 0),
        named_struct('rule_id', 'ContractedUnitPrice-C-009-C', 'failed', "ContractedUnitPrice" < 0),
        named_struct('rule_id', 'EffectiveCost-C-005-C', 'failed',
            CASE WHEN "ChargeCategory" = 'Purchase' AND "CommitmentDiscountId" IS NOT NULL
                 THEN "EffectiveCost" <> 0 END),
        named_struct('rule_id', 'ChargeFrequency-C-004-C', 'failed',
            CASE WHEN "ChargeCategory" = 'Purchase' AND "ChargeFrequency" IS NOT NULL
                 THEN "ChargeFrequency" = 'Usage-Based' END),
        named_struct('rule_id', 'CommitmentDiscountStatus-C-003-C', 'failed',
            CASE WHEN "CommitmentDiscountId" IS NULL
                 THEN "CommitmentDiscountStatus" IS NOT NULL END),
        named_struct('rule_id', 'CommitmentDiscountStatus-C-004-C', 'failed',
            CASE WHEN "CommitmentDiscountId" IS NOT NULL AND "ChargeCategory" = 'Usage'
                 THEN "CommitmentDiscountStatus" IS NULL END),
        named_struct('rule_id', 'CommitmentDiscountCategory-C-003-C', 'failed',
            CASE WHEN "CommitmentDiscountId" IS NULL
                 THEN "CommitmentDiscountCategory" IS NOT NULL END),
        named_struct('rule_id', 'CommitmentDiscountCategory-C-004-C', 'failed',
            CASE WHEN "CommitmentDiscountId" IS NOT NULL
                 THEN "CommitmentDiscountCategory" IS NULL END)
    )) AS verdict
    FROM lines
),
group_verdicts AS (
    SELECT
        'ServiceName-C-005-C' AS rule_id,
        "ServiceName" AS subject,
        count(DISTINCT "ServiceCategory") > 1 AS failed
    FROM lines
    WHERE "ServiceName" IS NOT NULL
    GROUP BY x_provider, "ServiceName"
    UNION ALL
    SELECT 'SkuPriceId-C-008-M', "SkuPriceId", count(DISTINCT "SkuId") > 1
    FROM lines
    WHERE "SkuPriceId" IS NOT NULL
    GROUP BY x_provider, "SkuPriceId"
),
outcomes AS (
    SELECT verdict['rule_id'] AS rule_id, subject, verdict['failed'] AS failed
    FROM line_verdicts
    UNION ALL
    SELECT rule_id, subject, failed
    FROM group_verdicts
)
SELECT
    r.rule_id,
    r.focus_column,
    r.requirement,
    count(o.failed) AS checked,
    count(CASE WHEN o.failed THEN 1 END) AS violations,
    min(CASE WHEN o.failed THEN o.subject END) AS example
FROM rules r
LEFT JOIN outcomes o ON o.rule_id = r.rule_id
GROUP BY r.rule_id, r.focus_column, r.requirement
ORDER BY r.rule_id
