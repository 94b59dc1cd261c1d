package dev.meterline.aggregate;

import dev.meterline.model.Part;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/** A message to one shard through the aggregation's groups: a part to record, or a question to answer. */
sealed interface Command permits Command.Record, Command.Ask {

    int shard();

    /** Aggregate a part of a batch. */
    record Record(Part part) implements Command {
        @Override
        public int shard() {
            return part.shard();
        }
    }

    /** Answered once, by whichever comes first: the shard's ask queue or the command stream. */
    record Ask(int shard, Function<Shard, Object> question, Gather gather, AtomicBoolean taken) implements Command {
        boolean claim() {
            return taken.compareAndSet(false, true);
        }
    }
}
