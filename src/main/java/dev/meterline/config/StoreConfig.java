package dev.meterline.config;

import java.nio.file.Path;
import java.util.List;

/**
 * Storage: the data directory of the embedded store, or a JDBC URL with credentials; the retention tiers; and this
 * replica's id, written with every row so that replicas sharing one database never overwrite each other.
 */
public record StoreConfig(Path dataDir, String url, String user, String password, List<Tier> tiers,
                          String replicaId) {

    /** True when no URL was set, so the embedded SQLite store in {@link #dataDir()} is used. */
    public boolean embedded() {
        return url.isEmpty() || url.startsWith("jdbc:sqlite:");
    }

    @Override
    public String toString() {
        return "StoreConfig[dataDir=" + dataDir + ", url=" + url + ", user=" + user
                + ", password=" + (password.isEmpty() ? "" : "***") + ", tiers=" + tiers + ", replicaId=" + replicaId + "]";
    }
}
