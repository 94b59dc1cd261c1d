package dev.meterline.store;

import dev.meterline.model.Window;

/** A stored partial window and the replica that wrote it. */
public record StoredWindow(String replica, Window window) {
}
