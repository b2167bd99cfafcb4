-- name: billing_lines
-- description: The cost lines of each billing period's current import.
-- order: 3
-- phase: before_enrich
-- The cost lines that count: for every provider, billing account and billing
-- period, only the lines of its current import (cost_imports holds the newest
-- import per period). A restated bill's earlier lines stay in the lake
-- (costs__versions, and costs rows of older imports) but are not read here.
--
-- Read from costs__versions, not the newest-version view: an import id names one
-- set of lines, each line once (re-importing it rewrites the same files), so the
-- join alone picks every current line exactly once, without ordering millions of
-- rows by version. It is also right where the newest version is wrong: lines of an
-- import whose cost_imports row was never written (a crash between the two writes)
-- are newer versions of the current import's lines, and the newest-version view
-- would hide those current lines.
SELECT c.*
FROM costs__versions c
JOIN cost_imports i ON c.x_import_id = i.import_id
