-- name: reader_notes
-- description: What the billing readers normalised in each file behind the current cost lines.
-- What the billing readers normalised in each file behind the current cost lines
-- (`cost_files.notes`, e.g. "ChargeFrequency: 'Usage-based' read as 'Usage-Based' (3)"):
-- conformance findings fixed on the way in, so the checks no longer see them.
-- Parameters: none.
-- Files: `cost_files` rows whose name (without its folder) is the x_source_file of a
--   current line (`costs` joined to the `cost_imports` that are current) and that
--   carry at least one note.
-- Output: file_name, notes (list of text), by file name.
WITH current_files AS (
    SELECT DISTINCT c.x_source_file
    FROM costs c
    JOIN cost_imports i ON c.x_import_id = i.import_id
)
SELECT file_name, notes
FROM cost_files
WHERE regexp_replace(file_name, '^.*[/\\]', '') IN (SELECT x_source_file FROM current_files)
  AND cardinality(notes) > 0
ORDER BY file_name
