-- The cost lines that count: for every provider, billing account and billing
-- period, only the lines of its current import (cost_imports holds the newest
-- import per period). A restated bill's earlier lines stay in the lake
-- (costs__versions, and costs rows of older imports) but are not read here.
SELECT c.*
FROM costs c
JOIN cost_imports i ON c.x_import_id = i.import_id
