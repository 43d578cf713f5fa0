-- The queries behind migration 0003_perf_indexes (once 0006_perf): run before and after `flask db upgrade` on the bench database.
--   psql -h 127.0.0.1 -U postgres -d bench -f bench/index_checks.sql
-- Each one scanned a whole table before the revision (figures in bench/RESULTS.md).
\timing on
-- Is any of these contacts corrected by a later entry? (outreach: 2,000,000 rows)
EXPLAIN ANALYZE SELECT * FROM outreach WHERE corrects_id IN (1, 2, 3);
-- A case list ordered by opening, first page (supervisors)
EXPLAIN ANALYZE SELECT id FROM cases ORDER BY opened_at DESC LIMIT 25;
-- One liaison's appointments, newest first
EXPLAIN ANALYZE SELECT * FROM appointments WHERE liaison_id = 1 ORDER BY starts_at DESC LIMIT 25;
-- Leads assigned to one staff member
EXPLAIN ANALYZE SELECT * FROM leads WHERE assigned_to_id = 1 ORDER BY created_at DESC LIMIT 25;
-- The unmatched inbound-text inbox, newest first
EXPLAIN ANALYZE SELECT * FROM inbound_sms WHERE handling = 'unmatched' ORDER BY received_at DESC LIMIT 25;
