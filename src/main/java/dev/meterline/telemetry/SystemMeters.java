package dev.meterline.telemetry;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;

import java.lang.management.ManagementFactory;

/**
 * The JVM, process and Netty allocator meters every server exposes beside its own, under names Prometheus's naming
 * rules accept ({@code promtool check metrics}): CPU time in seconds as Prometheus's own clients give it
 * ({@code process_cpu_seconds_total}) instead of Micrometer's nanoseconds, and the core count, a gauge, without a
 * {@code _count} suffix.
 */
public final class SystemMeters implements MeterBinder {

    private static final String ALLOCATOR_HELP = "memory used by Netty's buffer allocator";

    @Override
    public void bindTo(MeterRegistry registry) {
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")))
                .meterFilter(new MeterFilter() {
                    @Override
                    public Meter.Id map(Meter.Id id) {
                        return id.getName().equals("system.cpu.count") ? id.withName(MeterNames.SYSTEM_CPU_CORES) : id;
                    }
                });
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            FunctionCounter.builder(MeterNames.PROCESS_CPU, os, o -> o.getProcessCpuTime() / 1e9).baseUnit("seconds")
                    .description("CPU time used by the process").register(registry);
        }
        new UptimeMetrics().bindTo(registry);
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
            Gauge.builder(MeterNames.NETTY_ALLOCATOR_USED, p, a -> a.metric().usedDirectMemory())
                    .tag("type", "direct").baseUnit("bytes").description(ALLOCATOR_HELP).register(registry);
            Gauge.builder(MeterNames.NETTY_ALLOCATOR_USED, p, a -> a.metric().usedHeapMemory())
                    .tag("type", "heap").baseUnit("bytes").description(ALLOCATOR_HELP).register(registry);
        }
    }
}
