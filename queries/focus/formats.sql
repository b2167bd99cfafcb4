-- name: formats
-- description: FOCUS conformance, formats family: value and column-name formats.
-- order: 4
-- FOCUS conformance, formats family: value and column-name formats (ids from the
-- FOCUS validator's model-1.2.json).
-- Parameters: none.
-- Lines: the current cost lines (`costs` joined to the `cost_imports` that are
--   current) with a value in the column checked.
--   BillingCurrency-C-003-M: CurrencyFormat, three upper-case letters.
--   BillingCurrency-C-006-M: a national currency, i.e. an active ISO 4217 code
--     (metals, SDR and test codes are not national currencies).
--   Tags-C-001-M: KeyValueFormat, a JSON object whose values are strings, numbers,
--     true, false or null, never objects or arrays. The reader stores Tags as compact
--     JSON (brace-less Azure tags and key/value lists already folded into objects).
-- Files: FOCUS files behind the current lines (`cost_files`, format 'focus', matched
--   by name without folder), their column names.
--   ColumnHandling-A-001-M: a FOCUS column spelt in another case (`SkuPriceid`).
--   ColumnHandling-A-010-M: a column FOCUS 1.0-1.3 does not define, not prefixed x_.
-- Output: one row per rule: checked = lines (ColumnHandling: files) checked,
--   violations = those breaking it, example = the smallest x_line_id (file name)
--   among them, NULL when none.
WITH lines AS (
    -- Tags with every JSON string replaced by `s`: a flat object is then
    -- `{s:v,s:v,...}` with no brace or bracket left inside.
    SELECT c.*, regexp_replace(c."Tags", '"(?:[^"\\]|\\.)*"', 's', 'g') AS tags_skeleton
    FROM costs c
    JOIN cost_imports i ON c.x_import_id = i.import_id
),
files AS (
    SELECT DISTINCT f.file_name, f.columns
    FROM cost_files f
    WHERE f.format = 'focus'
      AND regexp_replace(f.file_name, '^.*[/\\]', '') IN (SELECT x_source_file FROM lines)
),
focus_columns AS (
    SELECT column1 AS focus_column
    FROM (VALUES
        ('AvailabilityZone'), ('BilledCost'), ('BillingAccountId'),
        ('BillingAccountName'), ('BillingAccountType'), ('BillingCurrency'),
        ('BillingPeriodEnd'), ('BillingPeriodStart'), ('CapacityReservationId'),
        ('CapacityReservationStatus'), ('ChargeCategory'), ('ChargeClass'),
        ('ChargeDescription'), ('ChargeFrequency'), ('ChargePeriodEnd'),
        ('ChargePeriodStart'), ('CommitmentDiscountCategory'), ('CommitmentDiscountId'),
        ('CommitmentDiscountName'), ('CommitmentDiscountQuantity'), ('CommitmentDiscountStatus'),
        ('CommitmentDiscountType'), ('CommitmentDiscountUnit'), ('ConsumedQuantity'),
        ('ConsumedUnit'), ('ContractedCost'), ('ContractedUnitPrice'),
        ('EffectiveCost'), ('InvoiceId'), ('InvoiceIssuerName'),
        ('ListCost'), ('ListUnitPrice'), ('PricingCategory'),
        ('PricingCurrency'), ('PricingCurrencyContractedUnitPrice'),
        ('PricingCurrencyEffectiveCost'),
        ('PricingCurrencyListUnitPrice'), ('PricingQuantity'), ('PricingUnit'),
        ('ProviderName'), ('PublisherName'), ('RegionId'),
        ('RegionName'), ('ResourceId'), ('ResourceName'),
        ('ResourceType'), ('ServiceCategory'), ('ServiceName'),
        ('ServiceSubcategory'), ('SkuId'), ('SkuMeter'),
        ('SkuPriceDetails'), ('SkuPriceId'), ('SubAccountId'),
        ('SubAccountName'), ('SubAccountType'), ('Tags'),
        ('ServiceProviderName'), ('HostProviderName'), ('AllocatedMethodId'),
        ('AllocatedMethodDetails'), ('AllocatedResourceId'), ('AllocatedResourceName'),
        ('AllocatedTags'), ('ContractApplied')
    )
),
file_columns AS (
    SELECT DISTINCT file_name, col, fc.focus_column
    FROM (SELECT file_name, unnest(columns) AS col FROM files)
    LEFT JOIN focus_columns fc ON lower(fc.focus_column) = lower(col)
),
rules AS (
    SELECT column1 AS rule_id, column2 AS focus_column, column3 AS requirement
    FROM (VALUES
        ('BillingCurrency-C-003-M', 'BillingCurrency',
         'BillingCurrency MUST conform to CurrencyFormat (three upper-case letters).'),
        ('BillingCurrency-C-006-M', 'BillingCurrency',
         'BillingCurrency MUST be expressed in national currency (ISO 4217).'),
        ('Tags-C-001-M', 'Tags',
         'Tags MUST conform to KeyValueFormat: a JSON object of non-nested values.'),
        ('ColumnHandling-A-001-M', '(columns)',
         'Column IDs MUST use Pascal case as FOCUS spells them.'),
        ('ColumnHandling-A-010-M', '(columns)', 'Custom columns MUST be prefixed with x_.')
    )
),
-- One verdict per line and rule: failed is NULL where the rule does not apply.
line_verdicts AS (
    SELECT x_line_id AS subject, unnest(make_array(
        named_struct('rule_id', 'BillingCurrency-C-003-M', 'failed',
            NOT regexp_like("BillingCurrency", '^[A-Z]{3}$')),
        named_struct('rule_id', 'BillingCurrency-C-006-M', 'failed',
            "BillingCurrency" NOT IN (
                'AED', 'AFN', 'ALL', 'AMD', 'ANG', 'AOA', 'ARS', 'AUD', 'AWG', 'AZN', 'BAM', 'BBD',
                'BDT', 'BGN', 'BHD', 'BIF', 'BMD', 'BND', 'BOB', 'BOV', 'BRL', 'BSD', 'BTN', 'BWP',
                'BYN', 'BZD', 'CAD', 'CDF', 'CHE', 'CHF', 'CHW', 'CLF', 'CLP', 'CNY', 'COP', 'COU',
                'CRC', 'CUC', 'CUP', 'CVE', 'CZK', 'DJF', 'DKK', 'DOP', 'DZD', 'EGP', 'ERN', 'ETB',
                'EUR', 'FJD', 'FKP', 'GBP', 'GEL', 'GHS', 'GIP', 'GMD', 'GNF', 'GTQ', 'GYD', 'HKD',
                'HNL', 'HTG', 'HUF', 'IDR', 'ILS', 'INR', 'IQD', 'IRR', 'ISK', 'JMD', 'JOD', 'JPY',
                'KES', 'KGS', 'KHR', 'KMF', 'KPW', 'KRW', 'KWD', 'KYD', 'KZT', 'LAK', 'LBP', 'LKR',
                'LRD', 'LSL', 'LYD', 'MAD', 'MDL', 'MGA', 'MKD', 'MMK', 'MNT', 'MOP', 'MRU', 'MUR',
                'MVR', 'MWK', 'MXN', 'MXV', 'MYR', 'MZN', 'NAD', 'NGN', 'NIO', 'NOK', 'NPR', 'NZD',
                'OMR', 'PAB', 'PEN', 'PGK', 'PHP', 'PKR', 'PLN', 'PYG', 'QAR', 'RON', 'RSD', 'RUB',
                'RWF', 'SAR', 'SBD', 'SCR', 'SDG', 'SEK', 'SGD', 'SHP', 'SLE', 'SLL', 'SOS', 'SRD',
                'SSP', 'STN', 'SVC', 'SYP', 'SZL', 'THB', 'TJS', 'TMT', 'TND', 'TOP', 'TRY', 'TTD',
                'TWD', 'TZS', 'UAH', 'UGX', 'USD', 'USN', 'UYI', 'UYU', 'UYW', 'UZS', 'VED', 'VES',
                'VND', 'VUV', 'WST', 'XAF', 'XCD', 'XCG', 'XOF', 'XPF', 'YER', 'ZAR', 'ZMW', 'ZWG',
                'ZWL')),
        named_struct('rule_id', 'Tags-C-001-M', 'failed',
            NOT regexp_like(tags_skeleton,
                '^\{\s*(s\s*:\s*[^,:{}\[\]\s]+\s*(,\s*s\s*:\s*[^,:{}\[\]\s]+\s*)*)?\}$'))
    )) AS verdict
    FROM lines
),
file_verdicts AS (
    SELECT
        'ColumnHandling-A-001-M' AS rule_id,
        file_name AS subject,
        bool_or(focus_column IS NOT NULL AND col <> focus_column) AS failed
    FROM file_columns
    GROUP BY file_name
    UNION ALL
    SELECT
        'ColumnHandling-A-010-M',
        file_name,
        bool_or(focus_column IS NULL AND NOT starts_with(col, 'x_'))
    FROM file_columns
    GROUP BY file_name
),
outcomes AS (
    SELECT verdict['rule_id'] AS rule_id, subject, verdict['failed'] AS failed
    FROM line_verdicts
    UNION ALL
    SELECT rule_id, subject, failed
    FROM file_verdicts
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
