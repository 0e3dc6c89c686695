-- Hourly aggregates fed by materialized views at insert time, so the feature views read
-- a few rows per source IP and hour instead of every request.
--
-- Definitions (shared by the views in 05):
-- * a request is an http_logs row whose match_status is not 'tls_only';
-- * unusual content type: a Content-Type whose media type is none of
--   application/x-www-form-urlencoded, multipart/form-data, application/json, text/plain,
--   application/xml, text/xml;
-- * non-standard port: dst_port other than 80 and 443;
-- * login POST: POST to a path with a login/sign-in/auth/session/token segment;
-- * Sec-CH-UA-Mobile mismatch: '?1' with a User-Agent lacking the "Mobi" token, or '?0' with one
--   that has it (MDN's rule for mobile User-Agents);
-- * UA/JA4 mismatch: the UA claims a client family (chromium, firefox, safari, curl, python,
--   go, wget) and the request's JA4 is in known_fingerprints but never for that family;
-- * ALPN/HTTP mismatch: a TLS-matched request whose ALPN was h2 but spoke HTTP/1.x, or whose
--   ALPN was http/1.1 but spoke HTTP/2;
-- * inter-arrival times: the first 10,000 request timestamps of the IP-hour, sorted.
-- @distributed agg_http_1h cityHash64(src_ip)
-- @distributed agg_tls_1h cityHash64(src_ip)
-- @distributed agg_ja4_1h cityHash64(ja4)

CREATE TABLE IF NOT EXISTS {{db}}.{{local:agg_http_1h}} {{on_cluster}}
(
    src_ip                 IPv6,
    window_start           DateTime('UTC'),
    requests               SimpleAggregateFunction(sum, UInt64),
    count_errors           SimpleAggregateFunction(sum, UInt64),
    count_xff              SimpleAggregateFunction(sum, UInt64),
    count_unusual_ct       SimpleAggregateFunction(sum, UInt64),
    count_non_std_port     SimpleAggregateFunction(sum, UInt64),
    count_login_post       SimpleAggregateFunction(sum, UInt64),
    sec_ch_mobile_mismatch SimpleAggregateFunction(sum, UInt64),
    count_ua_ja4_mismatch  SimpleAggregateFunction(sum, UInt64),
    count_alpn_mismatch    SimpleAggregateFunction(sum, UInt64),
    count_http2            SimpleAggregateFunction(sum, UInt64),
    count_no_tls           SimpleAggregateFunction(sum, UInt64),
    paths                  AggregateFunction(uniqExact, String),
    hosts                  AggregateFunction(uniqExact, String),
    -- request times as µs since window_start (fits UInt32: half the bytes of a timestamp)
    arrivals_us            AggregateFunction(groupArraySorted(10000), UInt32),
    -- value → requests maps: exact distinct counts and tops (ties: smallest value)
    ja4_counts             SimpleAggregateFunction(sumMap, Map(String, UInt64)),
    ja4h_counts            SimpleAggregateFunction(sumMap, Map(String, UInt64)),
    ua_counts              SimpleAggregateFunction(sumMap, Map(String, UInt64)),
    first_seen             SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen              SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(window_start)
ORDER BY (window_start, src_ip)
{{ttl:window_start}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.{{local:mv_agg_http_1h}} {{on_cluster}}
TO {{db}}.{{local:agg_http_1h}} AS
SELECT
    src_ip,
    toStartOfHour(ts) AS window_start,
    count() AS requests,
    countIf(status >= 400) AS count_errors,
    countIf(xff != '') AS count_xff,
    countIf(content_type != '' AND lower(trimBoth(splitByChar(';', content_type)[1])) NOT IN
        ('application/x-www-form-urlencoded', 'multipart/form-data', 'application/json',
         'text/plain', 'application/xml', 'text/xml')) AS count_unusual_ct,
    countIf(dst_port NOT IN (80, 443)) AS count_non_std_port,
    countIf(method = 'POST' AND match(path,
        '(?i)(^|/)(login|log-in|logon|signin|sign-in|auth|authenticate|session|sessions|oauth|token|wp-login\\.php|xmlrpc\\.php)([/._?-]|$)'))
        AS count_login_post,
    countIf((sec_ch_ua_mobile = '?1' AND position(user_agent, 'Mobi') = 0)
        OR (sec_ch_ua_mobile = '?0' AND position(user_agent, 'Mobi') > 0)) AS sec_ch_mobile_mismatch,
    countIf(ua_family != '' AND ja4 != ''
        AND ja4 IN (SELECT ja4 FROM {{db}}.known_fingerprints)
        AND (ja4, ua_family) NOT IN (SELECT ja4, family FROM {{db}}.known_fingerprints))
        AS count_ua_ja4_mismatch,
    countIf(match_status = 'matched' AND ((alpn = 'h2' AND startsWith(protocol, 'HTTP/1'))
        OR (alpn IN ('http/1.1', 'h1') AND startsWith(protocol, 'HTTP/2')))) AS count_alpn_mismatch,
    countIf(startsWith(protocol, 'HTTP/2')) AS count_http2,
    countIf(match_status = 'no_tls') AS count_no_tls,
    uniqExactState(path) AS paths,
    uniqExactState(toString(host)) AS hosts,
    groupArraySortedState(10000)(toUInt32(toUnixTimestamp64Micro(ts)
        - toInt64(toUnixTimestamp(toStartOfHour(ts))) * 1000000)) AS arrivals_us,
    sumMapIf(map(toString(ja4), toUInt64(1)), ja4 != '') AS ja4_counts,
    sumMapIf(map(toString(ja4h), toUInt64(1)), ja4h != '') AS ja4h_counts,
    sumMap(map(toString(user_agent), toUInt64(1))) AS ua_counts,
    min(ts) AS first_seen,
    max(ts) AS last_seen
FROM
(
    SELECT *,
        multiIf(
            user_agent = '', '',
            match(user_agent, 'CriOS/|FxiOS/|EdgiOS/'), 'safari',
            match(user_agent, '(?i)^curl/'), 'curl',
            match(user_agent, '(?i)^wget/'), 'wget',
            match(user_agent, '(?i)python-requests|python-urllib|python-httpx|aiohttp'), 'python',
            match(user_agent, '(?i)^go-http-client/'), 'go',
            match(user_agent, 'Firefox/'), 'firefox',
            match(user_agent, 'Chrome/|Chromium/|Edg/|OPR/'), 'chromium',
            match(user_agent, 'Safari/'), 'safari',
            '') AS ua_family
    FROM {{db}}.{{local:http_logs}}
    WHERE match_status != 'tls_only'
)
GROUP BY src_ip, window_start;

CREATE TABLE IF NOT EXISTS {{db}}.{{local:agg_tls_1h}} {{on_cluster}}
(
    src_ip           IPv6,
    window_start     DateTime('UTC'),
    handshakes       SimpleAggregateFunction(sum, UInt64),
    count_alpn_h2    SimpleAggregateFunction(sum, UInt64),
    true_window_size AggregateFunction(avgIf, Float64, UInt8),
    window_mss_ratio AggregateFunction(avgIf, Float64, UInt8),
    -- value → handshakes maps; the views take the most frequent value
    ttl_counts       SimpleAggregateFunction(sumMap, Map(UInt8, UInt64)),
    mss_counts       SimpleAggregateFunction(sumMap, Map(UInt16, UInt64)),
    wscale_counts    SimpleAggregateFunction(sumMap, Map(UInt8, UInt64)),
    version_counts   SimpleAggregateFunction(sumMap, Map(String, UInt64)),
    cipher_count     AggregateFunction(avg, UInt16),
    extension_count  AggregateFunction(avg, UInt16),
    ja4_set          AggregateFunction(uniqExact, String)
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(window_start)
ORDER BY (window_start, src_ip)
{{ttl:window_start}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.{{local:mv_agg_tls_1h}} {{on_cluster}}
TO {{db}}.{{local:agg_tls_1h}} AS
SELECT
    t.src_ip AS src_ip,
    toStartOfHour(t.ts) AS window_start,
    count() AS handshakes,
    countIf(t.alpn = 'h2') AS count_alpn_h2,
    avgIfState(toFloat64(t.tcp_window) * pow(2, t.tcp_window_scale), t.tcp_window > 0)
        AS true_window_size,
    avgIfState(toFloat64(t.tcp_window) / greatest(t.tcp_mss, 1), t.tcp_window > 0 AND t.tcp_mss > 0)
        AS window_mss_ratio,
    sumMapIf(map(t.ip_ttl, toUInt64(1)), t.ip_ttl > 0) AS ttl_counts,
    sumMapIf(map(t.tcp_mss, toUInt64(1)), t.tcp_mss > 0) AS mss_counts,
    sumMapIf(map(t.tcp_window_scale, toUInt64(1)), t.tcp_window > 0) AS wscale_counts,
    sumMap(map(toString(t.tls_version), toUInt64(1))) AS version_counts,
    avgState(t.cipher_count) AS cipher_count,
    avgState(t.extension_count) AS extension_count,
    uniqExactState(toString(t.ja4)) AS ja4_set
FROM {{db}}.{{local:tls_handshakes}} AS t
WHERE t.is_update = 0
GROUP BY src_ip, window_start;

CREATE TABLE IF NOT EXISTS {{db}}.{{local:agg_ja4_1h}} {{on_cluster}}
(
    ja4          LowCardinality(String),
    window_start DateTime('UTC'),
    requests     SimpleAggregateFunction(sum, UInt64),
    count_http2  SimpleAggregateFunction(sum, UInt64),
    count_errors SimpleAggregateFunction(sum, UInt64),
    ips          AggregateFunction(uniqExact, IPv6),
    ua_counts    SimpleAggregateFunction(sumMap, Map(String, UInt64)),
    first_seen   SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen    SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(window_start)
ORDER BY (ja4, window_start)
{{ttl:window_start}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.{{local:mv_agg_ja4_1h}} {{on_cluster}}
TO {{db}}.{{local:agg_ja4_1h}} AS
SELECT
    ja4,
    toStartOfHour(ts) AS window_start,
    count() AS requests,
    countIf(startsWith(protocol, 'HTTP/2')) AS count_http2,
    countIf(status >= 400) AS count_errors,
    uniqExactState(src_ip) AS ips,
    sumMap(map(toString(user_agent), toUInt64(1))) AS ua_counts,
    min(ts) AS first_seen,
    max(ts) AS last_seen
FROM {{db}}.{{local:http_logs}}
WHERE ja4 != '' AND match_status != 'tls_only'
GROUP BY ja4, window_start;
