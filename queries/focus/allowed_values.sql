-- name: allowed_values
-- description: FOCUS conformance, allowed-values family: enumerated columns hold allowed values.
-- order: 3
-- FOCUS conformance, allowed-values family: enumerated columns hold only the values
-- FOCUS 1.2 allows (ids from the FOCUS validator's model-1.2.json).
-- Parameters: none.
-- Lines: the current cost lines (`costs` joined to the `cost_imports` that are
--   current) where the column is not null (nullability.sql covers nulls). The reader
--   has already re-spelt case and dash variants (`Usage-based`) to FOCUS's spelling and
--   noted it in `cost_files.notes`, so what fails here is a value FOCUS does not know.
--   CommitmentDiscountStatus: model-1.2.json lists "Active", "Expired", "Pending", a
--   defect of the model; the spec's values "Used" and "Unused" are checked.
-- Output: one row per rule: checked = lines with a value, violations = lines whose
--   value is not allowed, example = the smallest x_line_id among them (NULL when none).
WITH lines AS (
    SELECT c.*
    FROM costs c
    JOIN cost_imports i ON c.x_import_id = i.import_id
),
subcategories AS (
    SELECT column1 AS subcategory, column2 AS category
    FROM (VALUES
        ('AI Platforms', 'AI and Machine Learning'),
        ('Bots', 'AI and Machine Learning'),
        ('Generative AI', 'AI and Machine Learning'),
        ('Machine Learning', 'AI and Machine Learning'),
        ('Natural Language Processing', 'AI and Machine Learning'),
        ('Other (AI and Machine Learning)', 'AI and Machine Learning'),
        ('Analytics Platforms', 'Analytics'),
        ('Business Intelligence', 'Analytics'),
        ('Data Processing', 'Analytics'),
        ('Search', 'Analytics'),
        ('Streaming Analytics', 'Analytics'),
        ('Other (Analytics)', 'Analytics'),
        ('Productivity and Collaboration', 'Business Applications'),
        ('Other (Business Applications)', 'Business Applications'),
        ('Containers', 'Compute'),
        ('End User Computing', 'Compute'),
        ('Quantum Compute', 'Compute'),
        ('Serverless Compute', 'Compute'),
        ('Virtual Machines', 'Compute'),
        ('Other (Compute)', 'Compute'),
        ('Caching', 'Databases'),
        ('Data Warehouses', 'Databases'),
        ('Ledger Databases', 'Databases'),
        ('NoSQL Databases', 'Databases'),
        ('Relational Databases', 'Databases'),
        ('Time Series Databases', 'Databases'),
        ('Other (Databases)', 'Databases'),
        ('Developer Platforms', 'Developer Tools'),
        ('Continuous Integration and Deployment', 'Developer Tools'),
        ('Development Environments', 'Developer Tools'),
        ('Source Code Management', 'Developer Tools'),
        ('Quality Assurance', 'Developer Tools'),
        ('Other (Developer Tools)', 'Developer Tools'),
        ('Identity and Access Management', 'Identity'),
        ('Other (Identity)', 'Identity'),
        ('API Management', 'Integration'),
        ('Messaging', 'Integration'),
        ('Workflow Orchestration', 'Integration'),
        ('Other (Integration)', 'Integration'),
        ('IoT Analytics', 'Internet of Things'),
        ('IoT Platforms', 'Internet of Things'),
        ('Other (Internet of Things)', 'Internet of Things'),
        ('Architecture', 'Management and Governance'),
        ('Compliance', 'Management and Governance'),
        ('Cost Management', 'Management and Governance'),
        ('Data Governance', 'Management and Governance'),
        ('Disaster Recovery', 'Management and Governance'),
        ('Endpoint Management', 'Management and Governance'),
        ('Observability', 'Management and Governance'),
        ('Support', 'Management and Governance'),
        ('Other (Management and Governance)', 'Management and Governance'),
        ('Content Creation', 'Media'),
        ('Gaming', 'Media'),
        ('Media Streaming', 'Media'),
        ('Mixed Reality', 'Media'),
        ('Other (Media)', 'Media'),
        ('Data Migration', 'Migration'),
        ('Resource Migration', 'Migration'),
        ('Other (Migration)', 'Migration'),
        ('Other (Mobile)', 'Mobile'),
        ('Multicloud Integration', 'Multicloud'),
        ('Other (Multicloud)', 'Multicloud'),
        ('Application Networking', 'Networking'),
        ('Content Delivery', 'Networking'),
        ('Network Connectivity', 'Networking'),
        ('Network Infrastructure', 'Networking'),
        ('Network Routing', 'Networking'),
        ('Network Security', 'Networking'),
        ('Other (Networking)', 'Networking'),
        ('Secret Management', 'Security'),
        ('Security Posture Management', 'Security'),
        ('Threat Detection and Response', 'Security'),
        ('Other (Security)', 'Security'),
        ('Backup Storage', 'Storage'),
        ('Block Storage', 'Storage'),
        ('File Storage', 'Storage'),
        ('Object Storage', 'Storage'),
        ('Storage Platforms', 'Storage'),
        ('Other (Storage)', 'Storage'),
        ('Application Platforms', 'Web'),
        ('Other (Web)', 'Web'),
        ('Other (Other)', 'Other')
    )
),
rules AS (
    SELECT column1 AS rule_id, column2 AS focus_column, column3 AS requirement
    FROM (VALUES
        ('ChargeCategory-C-003-M', 'ChargeCategory',
         'ChargeCategory MUST be one of Usage, Purchase, Tax, Credit, Adjustment.'),
        ('ChargeClass-C-005-C', 'ChargeClass', 'ChargeClass MUST be "Correction" when not null.'),
        ('ChargeFrequency-C-003-M', 'ChargeFrequency',
         'ChargeFrequency MUST be one of One-Time, Recurring, Usage-Based.'),
        ('PricingCategory-C-007-M', 'PricingCategory',
         'PricingCategory MUST be one of Standard, Dynamic, Committed, Other.'),
        ('CommitmentDiscountStatus-C-005-M', 'CommitmentDiscountStatus',
         'CommitmentDiscountStatus MUST be one of Used, Unused.'),
        ('CommitmentDiscountCategory-C-005-M', 'CommitmentDiscountCategory',
         'CommitmentDiscountCategory MUST be one of Spend, Usage.'),
        ('CapacityReservationStatus-C-006-M', 'CapacityReservationStatus',
         'CapacityReservationStatus MUST be one of Used, Unused.'),
        ('ServiceCategory-C-003-M', 'ServiceCategory',
         'ServiceCategory MUST be one of the 19 allowed values.'),
        ('ServiceSubcategory-C-003-M', 'ServiceSubcategory',
         'ServiceSubcategory MUST be one of the allowed values.'),
        ('ServiceSubcategory-C-004-M', 'ServiceSubcategory',
         'ServiceSubcategory MUST have one and only one parent ServiceCategory as specified.')
    )
),
checked_lines AS (
    SELECT
        l.*,
        s.subcategory IS NOT NULL AS known_subcategory,
        s.category AS parent_category
    FROM lines l
    LEFT JOIN subcategories s ON s.subcategory = l."ServiceSubcategory"
),
-- One verdict per line and rule: failed is NULL where the rule does not apply.
verdicts AS (
    SELECT x_line_id, unnest(make_array(
        named_struct('rule_id', 'ChargeCategory-C-003-M', 'failed',
            "ChargeCategory" NOT IN ('Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment')),
        named_struct('rule_id', 'ChargeClass-C-005-C', 'failed',
            "ChargeClass" <> 'Correction'),
        named_struct('rule_id', 'ChargeFrequency-C-003-M', 'failed',
            "ChargeFrequency" NOT IN ('One-Time', 'Recurring', 'Usage-Based')),
        named_struct('rule_id', 'PricingCategory-C-007-M', 'failed',
            "PricingCategory" NOT IN ('Standard', 'Dynamic', 'Committed', 'Other')),
        named_struct('rule_id', 'CommitmentDiscountStatus-C-005-M', 'failed',
            "CommitmentDiscountStatus" NOT IN ('Used', 'Unused')),
        named_struct('rule_id', 'CommitmentDiscountCategory-C-005-M', 'failed',
            "CommitmentDiscountCategory" NOT IN ('Spend', 'Usage')),
        named_struct('rule_id', 'CapacityReservationStatus-C-006-M', 'failed',
            "CapacityReservationStatus" NOT IN ('Used', 'Unused')),
        named_struct('rule_id', 'ServiceCategory-C-003-M', 'failed',
            "ServiceCategory" NOT IN (
                'AI and Machine Learning', 'Analytics', 'Business Applications', 'Compute',
                'Databases', 'Developer Tools', 'Multicloud', 'Identity', 'Integration',
                'Internet of Things', 'Management and Governance', 'Media', 'Migration',
                'Mobile', 'Networking', 'Security', 'Storage', 'Web', 'Other')),
        named_struct('rule_id', 'ServiceSubcategory-C-003-M', 'failed',
            CASE WHEN "ServiceSubcategory" IS NOT NULL THEN NOT known_subcategory END),
        named_struct('rule_id', 'ServiceSubcategory-C-004-M', 'failed',
            CASE WHEN known_subcategory AND "ServiceCategory" IS NOT NULL
                 THEN "ServiceCategory" <> parent_category END)
    )) AS verdict
    FROM checked_lines
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
