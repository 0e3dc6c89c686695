-- Inserted parts of the raw tables are written in the compact format (all columns in one
-- file) up to 256 MiB of uncompressed data, instead of the wide format (two files per column
-- stream) from 10 MiB. A batch of 50,000 http_logs rows is ~17 MiB: as a wide part that is
-- ~120 files to create, buffer and compress separately, which cost about as much CPU as the
-- rest of writing the part (bench/results/storage.md). Parts merged past 256 MiB become wide,
-- so large ranges are still read column by column. Values and sort order are unchanged.
ALTER TABLE {{db}}.{{local:http_logs}} {{on_cluster}} MODIFY SETTING min_bytes_for_wide_part = 268435456;
ALTER TABLE {{db}}.{{local:tls_handshakes}} {{on_cluster}} MODIFY SETTING min_bytes_for_wide_part = 268435456;
