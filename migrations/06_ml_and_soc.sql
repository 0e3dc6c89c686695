-- Detector output, model registry and analyst feedback.
-- @distributed ml_all_scores cityHash64(src_ip)

-- One row per scored IP-window and model version; re-scoring appends (latest scored_at wins
-- in view_ml_latest_scores).
CREATE TABLE IF NOT EXISTS {{db}}.{{local:ml_all_scores}} {{on_cluster}}
(
    scored_at              DateTime64(3, 'UTC'),
    src_ip                 IPv6,
    window_start           DateTime('UTC'),
    model_version          String,
    score                  Float64,
    threat_level           LowCardinality(String),
    campaign_id            Int64 DEFAULT -1,
    reasons                Array(String) DEFAULT [],
    supervised_probability Nullable(Float64),
    features               Map(String, Float64),
    top_ja4                String DEFAULT '',
    top_ua                 String DEFAULT ''
)
ENGINE = {{engine:MergeTree}}
PARTITION BY toYYYYMM(window_start)
ORDER BY (window_start, src_ip, scored_at);

-- Model registry: parameters, feature list, training size and metrics, and the serialized
-- model itself (JSON), so any score can be traced to the exact model that produced it.
CREATE TABLE IF NOT EXISTS {{db}}.ml_models {{on_cluster}}
(
    version       String,
    created_at    DateTime64(3, 'UTC'),
    algorithm     LowCardinality(String),
    params        String,
    features      Array(String),
    training_rows UInt64,
    seed          UInt64,
    metrics       String,
    model         String CODEC(ZSTD(3))
)
ENGINE = {{engine_everywhere:ReplacingMergeTree}}
ORDER BY version;

-- Analyst feedback, append-only: every label ever given is kept; the latest per target wins
-- (view_soc_current_labels).
CREATE TABLE IF NOT EXISTS {{db}}.soc_classifications {{on_cluster}}
(
    id          UUID DEFAULT generateUUIDv4(),
    created_at  DateTime64(3, 'UTC') DEFAULT now64(3),
    analyst     String,
    target_type LowCardinality(String),
    target      String,
    label       LowCardinality(String),
    note        String DEFAULT '',
    CONSTRAINT known_target_type CHECK target_type IN ('ip', 'ja4', 'ja4_combo', 'campaign'),
    CONSTRAINT known_label CHECK label IN ('benign', 'bot', 'malicious', 'unknown')
)
ENGINE = {{engine_everywhere:MergeTree}}
ORDER BY (target_type, target, created_at);

CREATE OR REPLACE VIEW {{db}}.view_soc_current_labels {{on_cluster}} AS
SELECT
    c.target_type AS target_type,
    c.target AS target,
    argMax(c.label, (c.created_at, c.id)) AS label,
    argMax(c.analyst, (c.created_at, c.id)) AS analyst,
    argMax(c.note, (c.created_at, c.id)) AS note,
    max(c.created_at) AS labeled_at,
    count() AS history_count
FROM {{db}}.soc_classifications AS c
GROUP BY c.target_type, c.target;

-- The latest score of each IP-window (the newest scoring run).
CREATE OR REPLACE VIEW {{db}}.view_ml_latest_scores {{on_cluster}} AS
SELECT
    s.src_ip AS src_ip,
    s.window_start AS window_start,
    argMax(s.model_version, s.scored_at) AS model_version,
    argMax(s.score, s.scored_at) AS score,
    argMax(s.threat_level, s.scored_at) AS threat_level,
    argMax(s.campaign_id, s.scored_at) AS campaign_id,
    argMax(s.reasons, s.scored_at) AS reasons,
    argMax(s.supervised_probability, s.scored_at) AS supervised_probability,
    argMax(s.top_ja4, s.scored_at) AS top_ja4,
    argMax(s.top_ua, s.scored_at) AS top_ua,
    max(s.scored_at) AS scored_at
FROM {{db}}.ml_all_scores AS s
GROUP BY s.src_ip, s.window_start;
