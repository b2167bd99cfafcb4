-- name: presence
-- description: FOCUS conformance, presence family: every mandatory column is present.
-- order: 1
-- FOCUS conformance, presence family: every mandatory FOCUS 1.2 column is a column of
-- each FOCUS file behind the current cost lines (rules CostAndUsage-D-*-M of the FOCUS
-- validator's model-1.2.json, check function ColumnPresent).
-- Parameters: none.
-- Files: `cost_files` rows of format 'focus' whose name (without its folder) is the
--   x_source_file of at least one current line (`costs` joined to the `cost_imports`
--   that are current). Names match FOCUS's case-insensitively, as the reader matches
--   them (ColumnHandling-A-001-M in formats.sql reports the wrong case). ProviderName
--   and PublisherName are deprecated by FOCUS 1.3: 1.3 files are not checked for them.
-- Output: one row per rule: checked = files the rule applies to, violations = files
--   without the column, example = the first such file name (NULL when none).
WITH current_lines AS (
    SELECT c.x_source_file
    FROM costs c
    JOIN cost_imports i ON c.x_import_id = i.import_id
),
files AS (
    SELECT DISTINCT f.file_name, f.focus_version, f.columns
    FROM cost_files f
    WHERE f.format = 'focus'
      AND regexp_replace(f.file_name, '^.*[/\\]', '') IN (SELECT x_source_file FROM current_lines)
),
file_columns AS (
    SELECT DISTINCT file_name, lower(col) AS col
    FROM (SELECT file_name, unnest(columns) AS col FROM files)
),
rules AS (
    SELECT column1 AS rule_id, column2 AS focus_column, column3 AS before_1_3
    FROM (VALUES
        ('CostAndUsage-D-005-M', 'BillingAccountName', false),
        ('CostAndUsage-D-006-M', 'BilledCost', false),
        ('CostAndUsage-D-008-M', 'ChargeCategory', false),
        ('CostAndUsage-D-009-M', 'BillingPeriodStart', false),
        ('CostAndUsage-D-010-M', 'BillingPeriodEnd', false),
        ('CostAndUsage-D-021-M', 'PublisherName', true),
        ('CostAndUsage-D-023-M', 'InvoiceIssuerName', false),
        ('CostAndUsage-D-024-M', 'BillingAccountId', false),
        ('CostAndUsage-D-025-M', 'ChargeDescription', false),
        ('CostAndUsage-D-026-M', 'ChargeClass', false),
        ('CostAndUsage-D-028-M', 'ChargePeriodEnd', false),
        ('CostAndUsage-D-030-M', 'ContractedCost', false),
        ('CostAndUsage-D-031-M', 'EffectiveCost', false),
        ('CostAndUsage-D-032-M', 'ListCost', false),
        ('CostAndUsage-D-035-M', 'BillingCurrency', false),
        ('CostAndUsage-D-036-M', 'PricingQuantity', false),
        ('CostAndUsage-D-037-M', 'ChargePeriodStart', false),
        ('CostAndUsage-D-038-M', 'ProviderName', true),
        ('CostAndUsage-D-040-M', 'ServiceCategory', false),
        ('CostAndUsage-D-041-M', 'ServiceName', false),
        ('CostAndUsage-D-068-M', 'PricingUnit', false)
    )
),
checks AS (
    SELECT r.rule_id, f.file_name, fc.col IS NULL AS missing
    FROM rules r
    JOIN files f ON NOT r.before_1_3 OR COALESCE(f.focus_version, '') <> '1.3'
    LEFT JOIN file_columns fc ON fc.file_name = f.file_name AND fc.col = lower(r.focus_column)
)
SELECT
    r.rule_id,
    r.focus_column,
    r.focus_column || ' MUST be present in a FOCUS dataset.' AS requirement,
    count(c.file_name) AS checked,
    count(CASE WHEN c.missing THEN 1 END) AS violations,
    min(CASE WHEN c.missing THEN c.file_name END) AS example
FROM rules r
LEFT JOIN checks c ON c.rule_id = r.rule_id
GROUP BY r.rule_id, r.focus_column
ORDER BY r.rule_id
