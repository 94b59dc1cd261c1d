package dev.meterline.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * A fresh database on a PostgreSQL server on this machine, for one bench server: created from an administrative URL
 * ({@code jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres}), named for the bench process and a counter, and
 * dropped on close, so every server starts from an empty store as it does with SQLite.
 *
 * <p>It also reads the CPU that the PostgreSQL server's processes used: the postmaster (found as the parent of this
 * connection's backend) with the children it has reaped, plus its live children, from {@code /proc}. The count
 * covers every client of that server, so the bench should be its only client.
 */
final class LoopbackPostgres implements AutoCloseable {

    private static int created;

    private final String adminUrl;
    private final String name;
    /** The postmaster's process id, or -1 when it is not visible in {@code /proc}. */
    final long postmaster;

    private LoopbackPostgres(String adminUrl, String name, long postmaster) {
        this.adminUrl = adminUrl;
        this.name = name;
        this.postmaster = postmaster;
    }

    /** Creates a database named {@code meterline_bench_PID_N} on the server of {@code adminUrl}. */
    static LoopbackPostgres create(String adminUrl) throws SQLException {
        String name = "meterline_bench_" + ProcessHandle.current().pid() + "_" + (++created);
        try (Connection c = DriverManager.getConnection(adminUrl); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
            long postmaster = -1;
            try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                postmaster = parentOf(rs.getLong(1));
            } catch (IOException notLocal) {
                // the server runs elsewhere: no CPU figures
            }
            return new LoopbackPostgres(adminUrl, name, postmaster);
        }
    }

    /** Meterline flags that point a server at this database with the administrative URL's user and password. */
    List<String> serverArgs() {
        int q = adminUrl.indexOf('?');
        String base = q < 0 ? adminUrl : adminUrl.substring(0, q);
        String url = base.substring(0, base.lastIndexOf('/') + 1) + name;
        String user = param("user");
        String password = param("password");
        return List.of("--storage-url", url, "--storage-user", user == null ? "postgres" : user,
                "--storage-password", password == null ? "" : password);
    }

    /**
     * Clock ticks (1/100 s) of CPU used so far by the postmaster, its reaped children and its live children; -1 when
     * the postmaster is not visible.
     */
    long cpuTicks() {
        if (postmaster < 0) {
            return -1;
        }
        try {
            long[] own = stat(postmaster);
            long ticks = own[1] + own[2] + own[3] + own[4];
            try (var procs = Files.list(Path.of("/proc"))) {
                for (Path p : (Iterable<Path>) procs::iterator) {
                    String pid = p.getFileName().toString();
                    if (!pid.chars().allMatch(Character::isDigit)) {
                        continue;
                    }
                    try {
                        long[] f = stat(Long.parseLong(pid));
                        if (f[0] == postmaster) {
                            ticks += f[1] + f[2];
                        }
                    } catch (IOException gone) {
                        // the process ended: the postmaster counts it once it is reaped
                    }
                }
            }
            return ticks;
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public void close() throws SQLException {
        try (Connection c = DriverManager.getConnection(adminUrl); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }

    private String param(String key) {
        int q = adminUrl.indexOf('?');
        if (q < 0) {
            return null;
        }
        for (String kv : adminUrl.substring(q + 1).split("&")) {
            if (kv.startsWith(key + "=")) {
                return kv.substring(key.length() + 1);
            }
        }
        return null;
    }

    private static long parentOf(long pid) throws IOException {
        return stat(pid)[0];
    }

    /** Parent pid, utime, stime, cutime, cstime of {@code pid}. */
    private static long[] stat(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new long[]{Long.parseLong(f[1]), Long.parseLong(f[11]), Long.parseLong(f[12]),
            Long.parseLong(f[13]), Long.parseLong(f[14])};
    }
}
