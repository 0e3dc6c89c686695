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
    length(ja4m) AS ja4_count,
    length(uam) AS ua_count,
    count_ua_ja4_mismatch / requests AS ua_ja4_mismatch_ratio,
    count_alpn_mismatch / requests AS alpn_http_mismatch_ratio,
    if(length(gaps) < 2 OR gap_mean = 0, 0,
       sqrt(arrayAvg(g -> (g - gap_mean) * (g - gap_mean), gaps)) / gap_mean)
        AS interarrival_cv,
    count_http2 / requests AS http2_share,
    count_no_tls / requests AS unmatched_ratio,
    mapKeys(ja4m)[indexOf(mapValues(ja4m), arrayMax(mapValues(ja4m)))] AS top_ja4,
    mapKeys(ja4hm)[indexOf(mapValues(ja4hm), arrayMax(mapValues(ja4hm)))] AS top_ja4h,
    mapKeys(uam)[indexOf(mapValues(uam), arrayMax(mapValues(uam)))] AS top_ua
FROM
(
    -- FINAL merges each (window_start, src_ip) key's rows in sort order: far cheaper than a
    -- GROUP BY with -Merge functions, same result. On a cluster one IP's rows are all on one
    -- shard (sharded by src_ip), so FINAL per shard is still complete.
    SELECT
        src_ip,
        window_start,
        requests,
        count_errors,
        count_xff,
        count_unusual_ct,
        count_non_std_port,
        count_login_post,
        sec_ch_mobile_mismatch AS mobile_mismatch,
        count_ua_ja4_mismatch,
        count_alpn_mismatch,
        count_http2,
        count_no_tls,
        finalizeAggregation(paths) AS distinct_paths,
        finalizeAggregation(hosts) AS distinct_hosts,
        arrayMap(d -> toFloat64(d), arrayPopFront(arrayDifference(finalizeAggregation(arrivals_us))))
            AS gaps,
        arrayAvg(gaps) AS gap_mean,
        ja4_counts AS ja4m,
        ja4h_counts AS ja4hm,
        ua_counts AS uam
    FROM {{db}}.agg_http_1h FINAL
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
    mapKeys(ttls)[indexOf(mapValues(ttls), arrayMax(mapValues(ttls)))] AS ip_ttl,
    mapKeys(mss)[indexOf(mapValues(mss), arrayMax(mapValues(mss)))] AS tcp_mss,
    mapKeys(wscale)[indexOf(mapValues(wscale), arrayMax(mapValues(wscale)))] AS tcp_window_scale,
    mapKeys(versions)[indexOf(mapValues(versions), arrayMax(mapValues(versions)))] AS tls_version,
    ifNotFinite(ciphers, 0) AS cipher_count,
    ifNotFinite(extensions, 0) AS extension_count,
    h2 / n AS alpn_h2_share
FROM
(
    SELECT
        src_ip,
        window_start,
        handshakes AS n,
        count_alpn_h2 AS h2,
        finalizeAggregation(true_window_size) AS tws,
        finalizeAggregation(window_mss_ratio) AS wmr,
        ttl_counts AS ttls,
        mss_counts AS mss,
        wscale_counts AS wscale,
        version_counts AS versions,
        finalizeAggregation(cipher_count) AS ciphers,
        finalizeAggregation(extension_count) AS extensions
    FROM {{db}}.agg_tls_1h FINAL
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
    -- GROUP BY, not FINAL: on a cluster one JA4-hour has rows on every shard.
    SELECT
        ja4,
        window_start,
        sum(requests) AS n,
        uniqExactMerge(ips) AS distinct_ips,
        sumMap(ua_counts) AS uam,
        arraySlice(arraySort((u, c) -> (-toInt64(c), u), mapKeys(uam), mapValues(uam)), 1, 5)
            AS top_user_agents,
        sum(count_http2) / n AS http2_share,
        sum(count_errors) / n AS error_ratio,
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
