package dev.meterline.aggregate;

/**
 * The shards no longer answer questions because the pipeline is stopping: a query answers without the open
 * windows, a flush tick does nothing (the final flush takes them). Any other error is a fault and is not mistaken
 * for this one.
 */
public final class PipelineStopping extends RuntimeException {

    private static final long serialVersionUID = 1L;

    PipelineStopping() {
        super("the pipeline is stopping", null, false, false);
    }
}
