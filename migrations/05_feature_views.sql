-- Views the detector and the dashboard read (never the raw tables). Every ratio's
-- denominator is the IP-hour's requests; definitions are in 04_hourly_aggregates.sql.

-- One feature vector per source IP and hour, for the detector (column set is a contract).
-- interarrival_cv: population standard deviation / mean of the gaps between consecutive
-- requests (0 with fewer than two gaps or a zero mean).
CREATE OR REPLACE VIEW {{db}}.view_ai_features_1h {{on_cluster}} AS
SELECT
    src_ip,
    window_start,
    requests,
    requests / 60 AS request_rate_per_min,
    distinct_paths,
    distinct_paths / requests AS path_diversity,
    distinct_hosts,
    count_errors / requests AS error_ratio,
    toUInt8(count_xff > 0) AS has_xff,
    count_unusual_ct / requests AS unusual_content_type_ratio,
    count_non_std_port / requests AS non_standard_port_ratio,
    count_login_post / requests AS login_post_concentration,
    mobile_mismatch / requests AS sec_ch_mobile_mismatch,
    length(ja4m.1) AS ja4_count,
    length(uam.1) AS ua_count,
    count_ua_ja4_mismatch / requests AS ua_ja4_mismatch_ratio,
    count_alpn_mismatch / requests AS alpn_http_mismatch_ratio,
    if(length(gaps) < 2 OR arrayAvg(gaps) = 0, 0,
       sqrt(arrayAvg(arrayMap(g -> pow(g - arrayAvg(gaps), 2), gaps))) / arrayAvg(gaps))
        AS interarrival_cv,
    count_http2 / requests AS http2_share,
    count_no_tls / requests AS unmatched_ratio,
    ja4m.1[indexOf(ja4m.2, arrayMax(ja4m.2))] AS top_ja4,
    ja4hm.1[indexOf(ja4hm.2, arrayMax(ja4hm.2))] AS top_ja4h,
    uam.1[indexOf(uam.2, arrayMax(uam.2))] AS top_ua
FROM
(
    SELECT
        src_ip,
        window_start,
        sum(requests) AS requests,
        sum(count_errors) AS count_errors,
        sum(count_xff) AS count_xff,
        sum(count_unusual_ct) AS count_unusual_ct,
        sum(count_non_std_port) AS count_non_std_port,
        sum(count_login_post) AS count_login_post,
        sum(sec_ch_mobile_mismatch) AS mobile_mismatch,
        sum(count_ua_ja4_mismatch) AS count_ua_ja4_mismatch,
        sum(count_alpn_mismatch) AS count_alpn_mismatch,
        sum(count_http2) AS count_http2,
        sum(count_no_tls) AS count_no_tls,
        uniqExactMerge(paths) AS distinct_paths,
        uniqExactMerge(hosts) AS distinct_hosts,
        arrayMap(d -> toFloat64(d),
            arrayPopFront(arrayDifference(groupArraySortedMerge(10000)(arrivals_us)))) AS gaps,
        sumMap(ja4_counts) AS ja4m,
        sumMap(ja4h_counts) AS ja4hm,
        sumMap(ua_counts) AS uam
    FROM {{db}}.agg_http_1h
    GROUP BY src_ip, window_start
)
WHERE requests > 0;

-- TCP/TLS-level features per source IP and hour (the thesis feature set). Categorical
-- values are the most frequent of the hour; true_window_size = SYN window × 2^window scale.
CREATE OR REPLACE VIEW {{db}}.view_thesis_features_1h {{on_cluster}} AS
SELECT
    src_ip,
    window_start,
    n AS handshakes,
    ifNotFinite(tws, 0) AS true_window_size,
    ifNotFinite(wmr, 0) AS window_mss_ratio,
    ttls.1[indexOf(ttls.2, arrayMax(ttls.2))] AS ip_ttl,
    mss.1[indexOf(mss.2, arrayMax(mss.2))] AS tcp_mss,
    wscale.1[indexOf(wscale.2, arrayMax(wscale.2))] AS tcp_window_scale,
    versions.1[indexOf(versions.2, arrayMax(versions.2))] AS tls_version,
    ifNotFinite(ciphers, 0) AS cipher_count,
    ifNotFinite(extensions, 0) AS extension_count,
    h2 / n AS alpn_h2_share
FROM
(
    SELECT
        src_ip,
        window_start,
        sum(handshakes) AS n,
        sum(count_alpn_h2) AS h2,
        avgIfMerge(true_window_size) AS tws,
        avgIfMerge(window_mss_ratio) AS wmr,
        sumMap(ttl_counts) AS ttls,
        sumMap(mss_counts) AS mss,
        sumMap(wscale_counts) AS wscale,
        sumMap(version_counts) AS versions,
        avgMerge(cipher_count) AS ciphers,
        avgMerge(extension_count) AS extensions
    FROM {{db}}.agg_tls_1h
    GROUP BY src_ip, window_start
)
WHERE n > 0;

-- "What is this JA4 on my site?": per JA4 and hour, with what the reference knows of it.
CREATE OR REPLACE VIEW {{db}}.view_ja4_signals_1h {{on_cluster}} AS
SELECT
    s.ja4 AS ja4,
    s.window_start AS window_start,
    s.n AS requests,
    s.distinct_ips AS distinct_ips,
    s.top_user_agents AS top_user_agents,
    s.http2_share AS http2_share,
    s.error_ratio AS error_ratio,
    s.first_seen AS first_seen_in_window,
    min(s.first_seen) OVER (PARTITION BY s.ja4) AS first_seen,
    k.applications AS known_applications
FROM
(
    SELECT
        ja4,
        window_start,
        sum(requests) AS n,
        uniqExactMerge(ips) AS distinct_ips,
        sumMap(ua_counts) AS uam,
        arraySlice(arraySort((u, c) -> (-toInt64(c), u), uam.1, uam.2), 1, 5) AS top_user_agents,
        sum(count_http2) / sum(requests) AS http2_share,
        sum(count_errors) / sum(requests) AS error_ratio,
        min(first_seen) AS first_seen
    FROM {{db}}.agg_ja4_1h
    GROUP BY ja4, window_start
) AS s
LEFT JOIN
(
    SELECT ja4, groupUniqArray(application) AS applications
    FROM {{db}}.known_fingerprints
    GROUP BY ja4
) AS k ON s.ja4 = k.ja4;

-- Dashboard overview: traffic per hour.
CREATE OR REPLACE VIEW {{db}}.view_overview_1h {{on_cluster}} AS
SELECT
    h.window_start AS window_start,
    h.n AS requests,
    h.unique_ips AS unique_ips,
    h.error_ratio AS error_ratio,
    h.http2_share AS http2_share,
    h.unmatched_ratio AS unmatched_ratio,
    h.xff_requests AS xff_requests,
    t.handshakes AS handshakes,
    t.distinct_ja4 AS distinct_ja4
FROM
(
    SELECT
        window_start,
        sum(requests) AS n,
        uniqExact(src_ip) AS unique_ips,
        sum(count_errors) / sum(requests) AS error_ratio,
        sum(count_http2) / sum(requests) AS http2_share,
        sum(count_no_tls) / sum(requests) AS unmatched_ratio,
        sum(count_xff) AS xff_requests
    FROM {{db}}.agg_http_1h
    GROUP BY window_start
) AS h
LEFT JOIN
(
    SELECT window_start, sum(handshakes) AS handshakes, uniqExactMerge(ja4_set) AS distinct_ja4
    FROM {{db}}.agg_tls_1h
    GROUP BY window_start
) AS t ON h.window_start = t.window_start;
