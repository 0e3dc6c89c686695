-- Reference of known fingerprints: JA4 → the application that produces it, and the client
-- family (chromium, firefox, safari, go, python, curl, other) that a User-Agent of that
-- application would claim. A JA4 may map to several applications (Chrome and Edge share one;
-- Go programs and Sliver agents share one). Seeded from known_fingerprints.csv; add more in a
-- new migration. On a cluster every node holds a full copy (the views join it locally).
-- @seed known_fingerprints known_fingerprints.csv

CREATE TABLE IF NOT EXISTS {{db}}.known_fingerprints {{on_cluster}}
(
    ja4         String,
    application String,
    family      LowCardinality(String),
    category    LowCardinality(String),
    source      String
)
ENGINE = {{engine_everywhere:ReplacingMergeTree}}
ORDER BY (ja4, application);
