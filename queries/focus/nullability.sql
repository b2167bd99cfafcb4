-- name: nullability
-- description: FOCUS conformance, nullability family: mandatory and conditionally mandatory columns are not null.
-- order: 2
-- FOCUS conformance, nullability family: mandatory columns that MUST NOT be null, and
-- the conditional nullability rules of FOCUS 1.2 (ids from the FOCUS validator's
-- model-1.2.json).
-- Parameters: none.
-- Lines: the current cost lines (`costs` joined to the `cost_imports` that are
--   current). A mandatory column a file lacks is null on each of its lines, so it
--   fails here as well as in presence.sql. ProviderName and PublisherName are not
--   checked on FOCUS 1.3 lines (deprecated there). Rules on Recommended or Conditional
--   columns (ChargeFrequency, ListUnitPrice, PricingCategory) apply to lines whose
--   source file carries the column: the provider does not support the concept
--   otherwise.
-- Output: one row per rule: checked = lines the rule applies to, violations = lines
--   that break it, example = the smallest x_line_id among them (NULL when none).
WITH file_columns AS (
    SELECT x_source_file, array_agg(DISTINCT lower(col)) AS columns
    FROM (
        SELECT regexp_replace(file_name, '^.*[/\\]', '') AS x_source_file,
               unnest(columns) AS col
        FROM cost_files
    )
    GROUP BY x_source_file
),
lines AS (
    SELECT
        c.*,
        COALESCE(c.x_focus_version, '') <> '1.3' AS before_1_3,
        COALESCE(array_has(f.columns, 'chargefrequency'), false) AS has_charge_frequency,
        COALESCE(array_has(f.columns, 'listunitprice'), false) AS has_list_unit_price,
        COALESCE(array_has(f.columns, 'pricingcategory'), false) AS has_pricing_category,
        c."ChargeCategory" IN ('Usage', 'Purchase')
            AND COALESCE(c."ChargeClass", '') <> 'Correction' AS priced
    FROM costs c
    JOIN cost_imports i ON c.x_import_id = i.import_id
    LEFT JOIN file_columns f ON f.x_source_file = c.x_source_file
),
rules AS (
    SELECT column1 AS rule_id, column2 AS focus_column, column3 AS requirement
    FROM (VALUES
        ('BilledCost-C-003-M', 'BilledCost', 'BilledCost MUST NOT be null.'),
        ('EffectiveCost-C-003-M', 'EffectiveCost', 'EffectiveCost MUST NOT be null.'),
        ('ListCost-C-003-M', 'ListCost', 'ListCost MUST NOT be null.'),
        ('ContractedCost-C-003-M', 'ContractedCost', 'ContractedCost MUST NOT be null.'),
        ('BillingCurrency-C-004-M', 'BillingCurrency', 'BillingCurrency MUST NOT be null.'),
        ('BillingAccountId-C-001-M', 'BillingAccountId', 'BillingAccountId MUST NOT be null.'),
        ('BillingPeriodStart-C-003-M', 'BillingPeriodStart',
         'BillingPeriodStart MUST NOT be null.'),
        ('BillingPeriodEnd-C-003-M', 'BillingPeriodEnd', 'BillingPeriodEnd MUST NOT be null.'),
        ('ChargePeriodStart-C-003-M', 'ChargePeriodStart', 'ChargePeriodStart MUST NOT be null.'),
        ('ChargePeriodEnd-C-003-M', 'ChargePeriodEnd', 'ChargePeriodEnd MUST NOT be null.'),
        ('ChargeCategory-C-002-M', 'ChargeCategory', 'ChargeCategory MUST NOT be null.'),
        ('ChargeFrequency-C-002-M', 'ChargeFrequency', 'ChargeFrequency MUST NOT be null.'),
        ('InvoiceIssuerName-C-003-M', 'InvoiceIssuerName', 'InvoiceIssuerName MUST NOT be null.'),
        ('ProviderName-C-003-M', 'ProviderName', 'ProviderName MUST NOT be null (FOCUS 1.0-1.2).'),
        ('PublisherName-C-003-M', 'PublisherName',
         'PublisherName MUST NOT be null (FOCUS 1.0-1.2).'),
        ('ServiceCategory-C-002-M', 'ServiceCategory', 'ServiceCategory MUST NOT be null.'),
        ('ServiceName-C-003-M', 'ServiceName', 'ServiceName MUST NOT be null.'),
        ('PricingQuantity-C-004-C', 'PricingQuantity',
         'PricingQuantity MUST be null when ChargeCategory is "Tax".'),
        ('PricingQuantity-C-005-C', 'PricingQuantity',
         'PricingQuantity MUST NOT be null on Usage and Purchase lines that are not corrections.'),
        ('PricingUnit-C-005-C', 'PricingUnit',
         'PricingUnit MUST be null when PricingQuantity is null.'),
        ('PricingUnit-C-006-C', 'PricingUnit',
         'PricingUnit MUST NOT be null when PricingQuantity is not null.'),
        ('ListUnitPrice-C-004-C', 'ListUnitPrice',
         'ListUnitPrice MUST be null when ChargeCategory is "Tax".'),
        ('ListUnitPrice-C-005-C', 'ListUnitPrice',
         'ListUnitPrice MUST NOT be null on Usage and Purchase lines that are not corrections.'),
        ('PricingCategory-C-003-C', 'PricingCategory',
         'PricingCategory MUST be null when ChargeCategory is "Tax".'),
        ('PricingCategory-C-004-C', 'PricingCategory',
         'PricingCategory MUST NOT be null on Usage and Purchase lines that are not corrections.')
    )
),
-- One verdict per line and rule: failed is NULL where the rule does not apply.
verdicts AS (
    SELECT x_line_id, unnest(make_array(
        named_struct('rule_id', 'BilledCost-C-003-M', 'failed', "BilledCost" IS NULL),
        named_struct('rule_id', 'EffectiveCost-C-003-M', 'failed', "EffectiveCost" IS NULL),
        named_struct('rule_id', 'ListCost-C-003-M', 'failed', "ListCost" IS NULL),
        named_struct('rule_id', 'ContractedCost-C-003-M', 'failed', "ContractedCost" IS NULL),
        named_struct('rule_id', 'BillingCurrency-C-004-M', 'failed', "BillingCurrency" IS NULL),
        named_struct('rule_id', 'BillingAccountId-C-001-M', 'failed', "BillingAccountId" IS NULL),
        named_struct('rule_id', 'BillingPeriodStart-C-003-M', 'failed',
            "BillingPeriodStart" IS NULL),
        named_struct('rule_id', 'BillingPeriodEnd-C-003-M', 'failed', "BillingPeriodEnd" IS NULL),
        named_struct('rule_id', 'ChargePeriodStart-C-003-M', 'failed', "ChargePeriodStart" IS NULL),
        named_struct('rule_id', 'ChargePeriodEnd-C-003-M', 'failed', "ChargePeriodEnd" IS NULL),
        named_struct('rule_id', 'ChargeCategory-C-002-M', 'failed', "ChargeCategory" IS NULL),
        named_struct('rule_id', 'ChargeFrequency-C-002-M', 'failed',
            CASE WHEN has_charge_frequency THEN "ChargeFrequency" IS NULL END),
        named_struct('rule_id', 'InvoiceIssuerName-C-003-M', 'failed', "InvoiceIssuerName" IS NULL),
        named_struct('rule_id', 'ProviderName-C-003-M', 'failed',
            CASE WHEN before_1_3 THEN "ProviderName" IS NULL END),
        named_struct('rule_id', 'PublisherName-C-003-M', 'failed',
            CASE WHEN before_1_3 THEN "PublisherName" IS NULL END),
        named_struct('rule_id', 'ServiceCategory-C-002-M', 'failed', "ServiceCategory" IS NULL),
        named_struct('rule_id', 'ServiceName-C-003-M', 'failed', "ServiceName" IS NULL),
        named_struct('rule_id', 'PricingQuantity-C-004-C', 'failed',
            CASE WHEN "ChargeCategory" = 'Tax' THEN "PricingQuantity" IS NOT NULL END),
        named_struct('rule_id', 'PricingQuantity-C-005-C', 'failed',
            CASE WHEN priced THEN "PricingQuantity" IS NULL END),
        named_struct('rule_id', 'PricingUnit-C-005-C', 'failed',
            CASE WHEN "PricingQuantity" IS NULL THEN "PricingUnit" IS NOT NULL END),
        named_struct('rule_id', 'PricingUnit-C-006-C', 'failed',
            CASE WHEN "PricingQuantity" IS NOT NULL THEN "PricingUnit" IS NULL END),
        named_struct('rule_id', 'ListUnitPrice-C-004-C', 'failed',
            CASE WHEN has_list_unit_price AND "ChargeCategory" = 'Tax'
                 THEN "ListUnitPrice" IS NOT NULL END),
        named_struct('rule_id', 'ListUnitPrice-C-005-C', 'failed',
            CASE WHEN has_list_unit_price AND priced THEN "ListUnitPrice" IS NULL END),
        named_struct('rule_id', 'PricingCategory-C-003-C', 'failed',
            CASE WHEN has_pricing_category AND "ChargeCategory" = 'Tax'
                 THEN "PricingCategory" IS NOT NULL END),
        named_struct('rule_id', 'PricingCategory-C-004-C', 'failed',
            CASE WHEN has_pricing_category AND priced THEN "PricingCategory" IS NULL END)
    )) AS verdict
    FROM lines
),
outcomes AS (
    SELECT x_line_id, verdict['rule_id'] AS rule_id, verdict['failed'] AS failed
    FROM verdicts
)
SELECT
    r.rule_id,
    r.focus_column,
    r.requirement,
    count(o.failed) AS checked,
    count(CASE WHEN o.failed THEN 1 END) AS violations,
    min(CASE WHEN o.failed THEN o.x_line_id END) AS example
FROM rules r
LEFT JOIN outcomes o ON o.rule_id = r.rule_id
GROUP BY r.rule_id, r.focus_column, r.requirement
ORDER BY r.rule_id
