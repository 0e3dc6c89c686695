-- Replayed batches (the correlator's spool after an ambiguous failure) carry an
-- insert_deduplication_token; a plain MergeTree only honours tokens within a deduplication
-- window, so without this a replay could store a batch twice. Replicated tables (cluster
-- mode) deduplicate by default; the same window is set there so both behave alike.
ALTER TABLE {{db}}.{{local:http_logs}} {{on_cluster}} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{db}}.{{local:tls_handshakes}} {{on_cluster}} MODIFY SETTING non_replicated_deduplication_window = 1000;
