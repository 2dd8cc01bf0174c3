-- Filled in by its issue's work.
SELECT 1;
