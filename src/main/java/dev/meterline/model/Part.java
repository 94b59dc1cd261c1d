package dev.meterline.model;

import java.util.List;

/** The points of one batch that belong to one shard, already validated and enriched. */
public record Part(int shard, Batch batch, List<Point> points) {
}
