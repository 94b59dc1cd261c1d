package dev.meterline.config;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The whole configuration, one record per component. Every setting has a default, an environment variable
 * ({@code METERLINE_*}) and a flag ({@code --name=value}); flags win over the environment.
 */
public record Config(IngestConfig ingest, ValidationConfig validation, AggregationConfig aggregation,
                     StoreConfig store, LifecycleConfig lifecycle, AuthConfig auth, TlsConfig tls,
                     PromQueryConfig prometheus, WalConfig wal, RemoteWriteConfig remoteWrite,
                     QueryViewConfig queryViews) {

    private static final int CORES = Runtime.getRuntime().availableProcessors();

    /** Every setting, in the order of the table in docs/configuration.md (ConfigurationDocTest holds them equal). */
    public static final List<Setting> SETTINGS = List.of(
            new Setting("tcp-port", "7070", "TCP ingest port; 0 picks a free port, printed at start"),
            new Setting("http-port", "8080", "HTTP port (ingest, queries, health, metrics); 0 picks a free port"),
            new Setting("bind", "0.0.0.0", "address both ports listen on"),
            new Setting("data-dir", "./data", "directory of the embedded store"),
            new Setting("storage-url", "", "JDBC URL; empty means the embedded SQLite store in the data dir"),
            new Setting("storage-user", "", "database user"),
            new Setting("storage-password", "", "database password"),
            new Setting("storage-password-file", "", "file holding the database password (wins over storage-password)"),
            new Setting("replica-id", "", "this replica's id in stored rows; empty means the host name"),
            new Setting("storage-timeout", "5s", "how long a PostgreSQL call waits for a connection before the flush fails and is retried"),
            new Setting("max-pending-windows", "1000000", "closed windows waiting in memory for storage; beyond them the spool, then ingest is paused"),
            new Setting("wal-fsync", "interval", "write-ahead log: interval (written before the answer, fsynced every second), always (fsynced before the answer) or off (no log)"),
            new Setting("wal-max-bytes", String.valueOf(WalConfig.DEFAULT_MAX_BYTES), "bound of the write-ahead log on disk; at it ingest pauses until flushes let segments go"),
            new Setting("wal-segment-bytes", "auto", "size at which the write-ahead log starts its next segment file; auto is an eighth of wal-max-bytes, at most 128 MiB"),
            new Setting("spool-max-bytes", "1073741824", "on-disk spool (PostgreSQL only) for windows beyond max-pending-windows while the database is down; 0 turns it off"),
            new Setting("window", "10s", "window resolution (tumbling, aligned to the epoch)"),
            new Setting("lateness", "5s", "how long after its end a window stays open for late points"),
            new Setting("flush-interval", "1s", "how often closed windows are flushed to storage"),
            new Setting("flush-backoff", "100ms", "wait after a failed flush before the next attempt; doubled per failure"),
            new Setting("flush-backoff-max", "10s", "longest wait between failed flush attempts"),
            new Setting("flush-spread", String.valueOf(AggregationConfig.DEFAULT_FLUSH_SPREAD), "share, in percent (0 to 90), of the time until the next windows fall due over which a flush of 20 000 windows or more is written in slices, so the store's writer leaves CPU to ingest; 0 writes every flush at full speed"),
            new Setting("buffer-size", "65536", "ingest buffer, in points decoded but not yet aggregated"),
            new Setting("overflow", "block", "when the buffer is full: block (stop reading) or drop (count, tell client)"),
            new Setting("max-series", "1000000", "active series budget; a point that would create one more is rejected"),
            new Setting("max-series-per-metric", "100000", "active series budget of one metric, within max-series"),
            new Setting("shutdown-timeout", "25s", "graceful shutdown budget after SIGTERM"),
            new Setting("retention", "10s:24h,1m:30d,1h:1y", "storage tiers, resolution:retention, finest first"),
            new Setting("stats-interval", "60s", "how often the stats line is logged; 0s turns it off"),
            new Setting("max-line-bytes", "65536", "longest accepted input line, in bytes"),
            new Setting("max-body-bytes", "16777216", "largest HTTP request body, in bytes (after gzip decoding too)"),
            new Setting("max-tags", "32", "most tags on one point"),
            new Setting("max-connections", "10000", "most open TCP ingest connections"),
            new Setting("idle-timeout", "5m", "a TCP connection that sends nothing for this long is closed"),
            new Setting("max-connections-per-client", "1000", "most open TCP ingest connections from one client address"),
            new Setting("line-timeout", "30s", "a TCP line not completed this long after its first byte closes the connection"),
            new Setting("write-timeout", "30s", "a TCP client that leaves its replies unread this long (send buffer full) is closed"),
            new Setting("request-timeout", "30s", "an HTTP request (headers and body) not received within this long is refused"),
            new Setting("max-future-skew", "10m", "how far ahead of the server clock a timestamp may be"),
            new Setting("reply-queue", "1024", "error and sync replies queued per connection before replies are dropped"),
            new Setting("auth-tokens-file", "", "file of accepted client tokens, one per line; empty turns authentication off"),
            new Setting("auth-open-paths", "/healthz,/readyz,/metrics", "HTTP paths served without a token when authentication is on"),
            new Setting("tls-cert-file", "", "PEM certificate chain; with tls-key-file turns TLS on for TCP ingest and HTTP"),
            new Setting("tls-key-file", "", "PKCS#8 PEM private key of tls-cert-file"),
            new Setting("tls-handshake-timeout", "10s", "a TLS handshake not completed within this long closes the connection"),
            new Setting("prometheus-max-points", "11000", "most points per series of a /prometheus range query"),
            new Setting("prometheus-max-series", "100000", "most series of the Prometheus view one /prometheus query may read"),
            new Setting("prometheus-query-timeout", "2m", "longest a /prometheus query may run (a request's timeout parameter may shorten it)"),
            new Setting("prometheus-max-regex-length", "1024", "longest regular expression in a /prometheus label matcher, in characters"),
            new Setting("prometheus-lookback", "5m", "how far back a /prometheus instant query looks for a series' latest window"),
            new Setting("prometheus-max-listed-series", "1000000", "most series one /prometheus listing (/labels, /label/<name>/values, /series) may read"),
            new Setting("query-views", "64", "query shapes (metric and tag filters) whose open windows are published for queries that need no shard; 0 turns them off"),
            new Setting("query-view-series", "1000", "series those published query shapes may hold in all; a shape that would pass it is dropped"),
            new Setting("query-view-idle", "5m", "a published query shape nobody asked for this long is dropped"),
            new Setting("static-tags", "", "tags added to every point, e.g. pod=web-1,zone=a (a point's own tag wins)"),
            new Setting("io-threads", String.valueOf(CORES), "event loops of the TCP ingest port, where lines are decoded"),
            new Setting("key-cache-max", "262144", "slots of each decoding thread's series key cache, which grows with the series it sees up to this; twice the series it is to keep"),
            new Setting("workers", String.valueOf(CORES), "validation rails (parallel().runOn())"),
            new Setting("shards", String.valueOf(CORES), "aggregation shards (groupBy groups), one writer each"),
            new Setting("store-threads", "2", "threads that write to the database (flushes, maintenance), and as many that read it for queries, so a query never waits behind a flush; the PostgreSQL pool holds a connection for each and one more"),
            new Setting("store-selection-rows", "100000", "series the store keeps of the series that queries' and listings' named tag values select (one more per selection), so that a repeated query or listing reads only the series stored since instead of every tag text of the metric; a selection of more than a sixteenth of them is read whole each time; 0 turns it off"),
            new Setting("ingest-nice", "5", "scheduling priority (Linux nice, 0 to 19) of the threads that take in and store points (TCP ingest loops, validation, shards, log writer, store writers, flush timer), so the HTTP threads answering queries get a core first; 0 leaves them at the default"),
            new Setting("remote-write-url", "", "Prometheus remote write receiver every closed window is pushed to; empty turns remote write off"),
            new Setting("remote-write-bearer-token-file", "", "file holding the bearer token sent to the remote write receiver"),
            new Setting("remote-write-headers", "", "extra headers of every remote write request, e.g. X-Scope-OrgID=team-a"),
            new Setting("remote-write-timeout", "30s", "how long one remote write request may take before it is retried"),
            new Setting("remote-write-batch-size", "1000", "stored partial windows read per remote write request; a series window gives 9 samples"),
            new Setting("remote-write-resolution", "", "export resolution, a multiple of the window; empty sends each window"),
            new Setting("remote-write-delay", "5s", "how long after a window closes (end + lateness) it is held back before it is sent"),
            new Setting("remote-write-max-backoff", "30s", "longest wait between retries of a failed remote write request"),
            new Setting("remote-write-concurrency", "4", "remote write requests in flight at once, each a page of the same export slice"));

    /** Loads from the process environment and command-line flags. */
    public static Config load(Map<String, String> env, String[] args) {
        Map<String, Setting> byFlag = new HashMap<>();
        Map<String, String> values = new LinkedHashMap<>();
        for (Setting s : SETTINGS) {
            byFlag.put(s.flag(), s);
            values.put(s.name(), s.defaultValue());
            String fromEnv = env.get(s.envVar());
            if (fromEnv != null) {
                values.put(s.name(), fromEnv);
            }
        }
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String flag = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                flag = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            Setting s = byFlag.get(flag);
            if (s == null) {
                throw new ConfigException(arg + ": unknown flag (expected one of the settings listed by --help)");
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new ConfigException(flag + ": missing value");
                }
                value = args[++i];
            }
            values.put(s.name(), value);
        }
        return from(values);
    }

    /** Builds a config from setting names to raw values; absent names take their defaults. */
    public static Config from(Map<String, String> raw) {
        SettingValues r = new SettingValues(raw);
        List<Tier> tiers = r.get("retention", Tier::parseList);
        Duration window = r.positiveDuration("window");
        if (tiers.get(0).resolution().toMillis() != window.toMillis()) {
            throw r.error("retention", "'" + r.string("retention") + "' (expected: a first tier at the window's resolution, "
                    + Durations.format(window) + ", since flushed windows form the first tier)");
        }
        IngestConfig ingest = new IngestConfig(
                r.string("bind"),
                r.intIn("tcp-port", 0, 65535),
                r.intIn("http-port", 0, 65535),
                r.intIn("max-line-bytes", 64, 64 * 1024 * 1024),
                r.longIn("max-body-bytes", 1024, 1L << 34),
                r.intIn("max-connections", 1, 1_000_000),
                r.positiveDuration("idle-timeout"),
                r.intIn("buffer-size", 1, 1 << 28),
                r.get("overflow", v -> switch (v.toLowerCase(Locale.ROOT)) {
                    case "block" -> Overflow.BLOCK;
                    case "drop" -> Overflow.DROP;
                    default -> throw new IllegalArgumentException("'" + v + "' (expected: block or drop)");
                }),
                r.intIn("reply-queue", 1, 1 << 20),
                r.intIn("max-connections-per-client", 1, 1_000_000),
                r.positiveDuration("line-timeout"),
                r.positiveDuration("write-timeout"),
                r.positiveDuration("request-timeout"),
                r.intIn("io-threads", 1, 1024),
                r.intIn("key-cache-max", IngestConfig.MIN_KEY_CACHE, IngestConfig.MAX_KEY_CACHE));
        Duration maxAge = tiers.get(tiers.size() - 1).retention();
        ValidationConfig validation = new ValidationConfig(
                r.intIn("max-tags", 0, 1024),
                r.get("max-future-skew", Durations::parse),
                maxAge,
                r.get("static-tags", Config::parseTags),
                r.intIn("workers", 1, 1024));
        Duration lateness = r.get("lateness", Durations::parse);
        Duration flushBackoff = r.positiveDuration("flush-backoff");
        Duration flushBackoffMax = r.positiveDuration("flush-backoff-max");
        if (flushBackoffMax.compareTo(flushBackoff) < 0) {
            throw r.error("flush-backoff-max", "'" + r.string("flush-backoff-max") + "' (expected: at least flush-backoff, "
                    + r.string("flush-backoff") + ")");
        }
        AggregationConfig aggregation = new AggregationConfig(window, lateness,
                r.positiveDuration("flush-interval"),
                r.intIn("max-series", 1, Integer.MAX_VALUE),
                r.intIn("shards", 1, 1024),
                r.intIn("max-series-per-metric", 1, Integer.MAX_VALUE),
                flushBackoff,
                flushBackoffMax,
                r.intIn("flush-spread", 0, AggregationConfig.MAX_FLUSH_SPREAD));
        String password = r.string("storage-password");
        String passwordFile = r.string("storage-password-file");
        if (!passwordFile.isEmpty()) {
            try {
                password = Files.readString(Path.of(passwordFile), StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw r.error("storage-password-file", "cannot read '" + passwordFile + "': " + e.getMessage());
            }
        }
        String url = r.string("storage-url");
        if (!url.isEmpty() && !url.startsWith("jdbc:postgresql:") && !url.startsWith("jdbc:sqlite:")) {
            throw r.error("storage-url", "'" + url + "' (expected: empty, jdbc:postgresql://… or jdbc:sqlite:…)");
        }
        String replica = r.string("replica-id");
        if (replica.isEmpty()) {
            replica = hostName();
        }
        Duration storageTimeout = r.get("storage-timeout", Durations::parse);
        if (storageTimeout.compareTo(StoreConfig.MIN_TIMEOUT) < 0 || storageTimeout.compareTo(Duration.ofMinutes(5)) > 0) {
            throw r.error("storage-timeout", "'" + r.string("storage-timeout") + "' (expected: from 250ms to 5m)");
        }
        StoreConfig store = new StoreConfig(Path.of(r.string("data-dir")), url, r.string("storage-user"), password,
                tiers, replica, storageTimeout, r.intIn("max-pending-windows", 1, Integer.MAX_VALUE),
                r.longIn("spool-max-bytes", 0, 1L << 40), r.intIn("store-threads", 1, 256), aggregation.maxSeries(),
                r.intIn("store-selection-rows", 0, 1 << 24));
        LifecycleConfig lifecycle = new LifecycleConfig(r.positiveDuration("shutdown-timeout"),
                r.get("stats-interval", Durations::parse), r.intIn("ingest-nice", 0, LifecycleConfig.MAX_NICE));
        PromQueryConfig prometheus = new PromQueryConfig(r.intIn("prometheus-max-points", 1, 10_000_000),
                r.intIn("prometheus-max-series", 1, Integer.MAX_VALUE), r.positiveDuration("prometheus-query-timeout"),
                r.intIn("prometheus-max-regex-length", 1, 1 << 20), r.positiveDuration("prometheus-lookback"),
                r.intIn("prometheus-max-listed-series", 1, Integer.MAX_VALUE - 1));
        QueryViewConfig queryViews = new QueryViewConfig(r.intIn("query-views", 0, 1 << 16),
                r.intIn("query-view-series", 0, 1 << 24), r.positiveDuration("query-view-idle"));
        return new Config(ingest, validation, aggregation, store, lifecycle, auth(r), tls(r), prometheus, wal(r),
                remoteWrite(r, window), queryViews);
    }

    private static WalConfig wal(SettingValues r) {
        WalFsync fsync = r.get("wal-fsync", v -> switch (v.toLowerCase(Locale.ROOT)) {
            case "interval" -> WalFsync.INTERVAL;
            case "always" -> WalFsync.ALWAYS;
            case "off" -> WalFsync.OFF;
            default -> throw new IllegalArgumentException("'" + v + "' (expected: interval, always or off)");
        });
        long max = r.longIn("wal-max-bytes", WalConfig.MIN_SEGMENTS * WalConfig.MIN_SEGMENT_BYTES, 1L << 44);
        long segment = r.string("wal-segment-bytes").equalsIgnoreCase("auto") ? WalConfig.autoSegmentBytes(max)
                : r.longIn("wal-segment-bytes", WalConfig.MIN_SEGMENT_BYTES, 1L << 32);
        if (max / WalConfig.MIN_SEGMENTS < segment) {
            throw r.error("wal-max-bytes", "'" + max + "' (expected: at least " + WalConfig.MIN_SEGMENTS
                    + " segments of wal-segment-bytes " + segment + ", " + WalConfig.MIN_SEGMENTS * segment
                    + "; or leave wal-segment-bytes at auto)");
        }
        return new WalConfig(fsync, max, segment, Duration.ofSeconds(1));
    }

    /** Remote write: the token read from its file, headers parsed, the resolution a multiple of the window. */
    private static RemoteWriteConfig remoteWrite(SettingValues r, Duration window) {
        String tokenFile = r.string("remote-write-bearer-token-file");
        String token = "";
        if (!tokenFile.isEmpty()) {
            try {
                token = Files.readString(Path.of(tokenFile), StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw r.error("remote-write-bearer-token-file", "cannot read '" + tokenFile + "': "
                        + e.getClass().getSimpleName());
            }
            if (token.isEmpty()) {
                throw r.error("remote-write-bearer-token-file", "'" + tokenFile + "' is empty (expected: a token)");
            }
        }
        List<String> pairs = r.get("remote-write-headers", Config::parseTags);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 0; i < pairs.size(); i += 2) {
            headers.put(pairs.get(i), pairs.get(i + 1));
        }
        String res = r.string("remote-write-resolution");
        Duration resolution = res.isEmpty() ? Duration.ZERO : r.positiveDuration("remote-write-resolution");
        if (resolution.toMillis() % window.toMillis() != 0) {
            throw r.error("remote-write-resolution", "'" + res + "' (expected: a multiple of the window, "
                    + Durations.format(window) + ")");
        }
        try {
            return new RemoteWriteConfig(r.string("remote-write-url"), token, headers,
                    r.positiveDuration("remote-write-timeout"), r.intIn("remote-write-batch-size", 1, 1_000_000),
                    resolution, r.get("remote-write-delay", Durations::parse),
                    r.positiveDuration("remote-write-max-backoff"),
                    r.intIn("remote-write-concurrency", 1, RemoteWriteConfig.MAX_CONCURRENCY));
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            String field = m.substring(0, m.indexOf(':'));
            String name = switch (field) {
                case "url" -> "remote-write-url";
                case "headers" -> "remote-write-headers";
                case "timeout" -> "remote-write-timeout";
                case "batchSize" -> "remote-write-batch-size";
                case "resolution" -> "remote-write-resolution";
                case "delay" -> "remote-write-delay";
                case "maxBackoff" -> "remote-write-max-backoff";
                case "concurrency" -> "remote-write-concurrency";
                default -> throw e;
            };
            throw r.error(name, m.substring(field.length() + 2));
        }
    }

    /** Both TLS files or neither; each must be readable. */
    private static TlsConfig tls(SettingValues r) {
        Duration timeout = r.positiveDuration("tls-handshake-timeout");
        String cert = r.string("tls-cert-file");
        String key = r.string("tls-key-file");
        if (cert.isEmpty() && key.isEmpty()) {
            return new TlsConfig(null, null, timeout);
        }
        if (cert.isEmpty() || key.isEmpty()) {
            String missing = cert.isEmpty() ? "tls-cert-file" : "tls-key-file";
            throw r.error(missing, "'' (expected: set together with "
                    + (cert.isEmpty() ? "tls-key-file" : "tls-cert-file") + ")");
        }
        for (String name : List.of("tls-cert-file", "tls-key-file")) {
            Path p = Path.of(r.string(name));
            if (!Files.isReadable(p)) {
                throw r.error(name, "'" + p + "' (expected: a readable PEM file)");
            }
        }
        return new TlsConfig(Path.of(cert), Path.of(key), timeout);
    }

    /** Reads the token file (blank lines and {@code #} comments skipped) into digests; the tokens are not kept. */
    private static AuthConfig auth(SettingValues r) {
        Set<String> open = new LinkedHashSet<>();
        for (String p : r.string("auth-open-paths").split(",")) {
            if (!p.isBlank()) {
                if (!p.strip().startsWith("/")) {
                    throw r.error("auth-open-paths", "'" + p.strip() + "' (expected: paths starting with /)");
                }
                open.add(p.strip());
            }
        }
        String file = r.string("auth-tokens-file");
        if (file.isEmpty()) {
            return new AuthConfig(List.of(), Set.copyOf(open));
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw r.error("auth-tokens-file", "cannot read '" + file + "': " + e.getClass().getSimpleName());
        }
        List<byte[]> digests = new ArrayList<>();
        for (String line : lines) {
            String token = line.strip();
            if (token.isEmpty() || token.startsWith("#")) {
                continue;
            }
            if (token.length() < 16) {
                throw r.error("auth-tokens-file", "'" + file + "' holds a token of " + token.length()
                        + " characters (expected: at least 16)");
            }
            try {
                digests.add(java.security.MessageDigest.getInstance("SHA-256")
                        .digest(token.getBytes(StandardCharsets.UTF_8)));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
        if (digests.isEmpty()) {
            throw r.error("auth-tokens-file", "'" + file + "' holds no token (expected: one token per line)");
        }
        return new AuthConfig(List.copyOf(digests), Set.copyOf(open));
    }

    /** Parses {@code k=v,k2=v2} into alternating key, value. */
    static List<String> parseTags(String text) {
        List<String> pairs = new ArrayList<>();
        if (text.isBlank()) {
            return List.of();
        }
        for (String kv : text.split(",")) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("'" + kv + "' (expected: key=value pairs separated by commas)");
            }
            String key = kv.substring(0, eq).trim();
            if (pairs.contains(key)) {
                throw new IllegalArgumentException("'" + key + "' given twice");
            }
            pairs.add(key);
            pairs.add(kv.substring(eq + 1).trim());
        }
        return List.copyOf(pairs);
    }

    private static String hostName() {
        String fromEnv = System.getenv("HOSTNAME");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return fromEnv;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "local";
        }
    }
}
