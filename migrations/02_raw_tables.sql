-- Raw events. Every TLS handshake the sensor saw, and every HTTP request Apache served with
-- the TLS fields of its connection joined by the correlator.
--
-- Insert rows with the event field names (lib/events.ts); `ts` takes the event's `ts_us`
-- (an integer in microseconds is read as DateTime64(6) ticks). IPv4 addresses are stored as
-- IPv4-mapped IPv6 (::ffff:a.b.c.d), so one column type serves both families.
-- Partitions are days (cheap TTL drops); the sort key starts with the hour, so the hourly
-- aggregates, the dashboard's time ranges and the detector's windows read contiguous ranges.
-- @distributed tls_handshakes cityHash64(src_ip)
-- @distributed http_logs cityHash64(src_ip)

CREATE TABLE IF NOT EXISTS {{db}}.{{local:tls_handshakes}} {{on_cluster}}
(
    ts               DateTime64(6, 'UTC') CODEC(Delta, ZSTD(1)),
    src_ip           IPv6,
    src_port         UInt16,
    dst_ip           IPv6,
    dst_port         UInt16,
    transport        LowCardinality(String) DEFAULT 'tcp',
    ja4              LowCardinality(String),
    ja4_r            String CODEC(ZSTD(3)),
    ja4_o            LowCardinality(String),
    ja4_ro           String CODEC(ZSTD(3)),
    ja3              LowCardinality(String),
    ja3_full         String CODEC(ZSTD(3)),
    ja4s             LowCardinality(String) DEFAULT '',
    ja3s             LowCardinality(String) DEFAULT '',
    ja4t             LowCardinality(String) DEFAULT '',
    tls_server_name  String DEFAULT '',
    tls_version      LowCardinality(String) DEFAULT '',
    alpn             LowCardinality(String) DEFAULT '',
    cipher_count     UInt16 DEFAULT 0,
    extension_count  UInt16 DEFAULT 0,
    tcp_window       UInt32 DEFAULT 0,
    tcp_mss          UInt16 DEFAULT 0,
    tcp_window_scale UInt8 DEFAULT 0,
    ip_ttl           UInt8 DEFAULT 0,
    -- 1 for a follow-up event that only adds late fields (JA4S) to an earlier handshake.
    is_update        UInt8 DEFAULT 0
)
ENGINE = {{engine:MergeTree}}
PARTITION BY toYYYYMMDD(ts)
ORDER BY (toStartOfHour(ts), src_ip, ts)
{{ttl:toDateTime(ts)}};

CREATE TABLE IF NOT EXISTS {{db}}.{{local:http_logs}} {{on_cluster}}
(
    ts                 DateTime64(6, 'UTC') CODEC(Delta, ZSTD(1)),
    src_ip             IPv6,
    src_port           UInt16,
    dst_ip             IPv6,
    dst_port           UInt16,
    -- Real client when mod_remoteip / PROXY protocol says so; :: when absent.
    client_ip          IPv6 DEFAULT toIPv6('::'),
    method             LowCardinality(String),
    host               LowCardinality(String) DEFAULT '',
    path               String,
    query              String DEFAULT '',
    protocol           LowCardinality(String),
    status             UInt16 DEFAULT 0,
    user_agent         LowCardinality(String) DEFAULT '',
    accept             LowCardinality(String) DEFAULT '',
    accept_language    LowCardinality(String) DEFAULT '',
    accept_encoding    LowCardinality(String) DEFAULT '',
    content_type       LowCardinality(String) DEFAULT '',
    referer            String DEFAULT '',
    xff                String DEFAULT '',
    sec_ch_ua          LowCardinality(String) DEFAULT '',
    sec_ch_ua_mobile   LowCardinality(String) DEFAULT '',
    sec_ch_ua_platform LowCardinality(String) DEFAULT '',
    has_cookie         UInt8 DEFAULT 0,
    header_names       Array(LowCardinality(String)) DEFAULT [],
    ja4h               LowCardinality(String) DEFAULT '',
    conn_request_index UInt32 DEFAULT 0,
    -- TLS fields of the connection, joined by the correlator ('' / 0 when not matched).
    ja4                LowCardinality(String) DEFAULT '',
    ja4_r              String DEFAULT '' CODEC(ZSTD(3)),
    ja4_o              LowCardinality(String) DEFAULT '',
    ja4_ro             String DEFAULT '' CODEC(ZSTD(3)),
    ja3                LowCardinality(String) DEFAULT '',
    ja4s               LowCardinality(String) DEFAULT '',
    ja4t               LowCardinality(String) DEFAULT '',
    tls_server_name    LowCardinality(String) DEFAULT '',
    tls_version        LowCardinality(String) DEFAULT '',
    alpn               LowCardinality(String) DEFAULT '',
    tcp_window         UInt32 DEFAULT 0,
    tcp_mss            UInt16 DEFAULT 0,
    tcp_window_scale   UInt8 DEFAULT 0,
    ip_ttl             UInt8 DEFAULT 0,
    -- 'matched' (TLS joined), 'no_tls' (plain HTTP or handshake not seen), 'tls_only'
    -- (a handshake whose connection carried no logged request; not counted as a request).
    match_status       LowCardinality(String) DEFAULT 'no_tls',
    -- Request time minus handshake time, µs (0 when not matched).
    join_delay_us      Int64 DEFAULT 0
)
ENGINE = {{engine:MergeTree}}
PARTITION BY toYYYYMMDD(ts)
ORDER BY (toStartOfHour(ts), src_ip, ts)
{{ttl:toDateTime(ts)}};
