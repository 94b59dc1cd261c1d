package dev.meterline.aggregate;

import reactor.core.publisher.Sinks;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;

/** Collects one answer per shard to an ask; completes on the thread of the last shard to answer. */
final class Gather {
    final AtomicReferenceArray<Object> answers;
    final AtomicInteger remaining;
    final Sinks.One<Gather> result = Sinks.one();
    final Consumer<List<Object>> onAll;
    volatile long closedThroughSeq;

    Gather(int n, Consumer<List<Object>> onAll) {
        this.answers = new AtomicReferenceArray<>(n);
        this.remaining = new AtomicInteger(n);
        this.onAll = onAll;
    }

    void offer(int shard, Object answer) {
        answers.set(shard, answer);
        if (remaining.decrementAndGet() == 0) {
            if (onAll != null) {
                onAll.accept(all());
            }
            result.tryEmitValue(this);
        }
    }

    List<Object> all() {
        List<Object> all = new ArrayList<>(answers.length());
        for (int i = 0; i < answers.length(); i++) {
            all.add(answers.get(i));
        }
        return all;
    }

    void fail(Throwable e) {
        remaining.set(-1);
        result.tryEmitError(e);
    }
}
