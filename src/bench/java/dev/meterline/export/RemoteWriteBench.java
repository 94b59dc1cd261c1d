package dev.meterline.export;

import dev.meterline.TestServer;

import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Export throughput into a real VictoriaMetrics while ingest runs: a Meterline on 1 s windows (lateness 0) takes
 * points for {@code --series} series without timestamps as fast as it can for {@code --seconds}, so every series
 * closes a window every second; the exporter sends them. Prints, every second, the windows stored and exported and
 * the export lag; then how long the backlog took to drain and the exported window rate, and checks the totals in
 * VictoriaMetrics. Not a test: run with
 * {@code java -cp target/test-classes:target/meterline.jar:$(cat target/cp.txt) dev.meterline.export.RemoteWriteBench
 * --series 100000 --seconds 30}.
 */
public final class RemoteWriteBench {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private RemoteWriteBench() {
    }

    public static void main(String[] args) throws Exception {
        int series = 100_000;
        int seconds = 30;
        int connections = 2;
        String batch = "1000";
        String concurrency = "1";
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--series" -> series = Integer.parseInt(args[i + 1]);
                case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
                case "--connections" -> connections = Integer.parseInt(args[i + 1]);
                case "--batch-size" -> batch = args[i + 1];
                case "--concurrency" -> concurrency = args[i + 1];
                default -> throw new IllegalArgumentException(args[i] + ": unknown (expected --series, --seconds,"
                        + " --connections, --batch-size, --concurrency)");
            }
        }
        Path tmp = Files.createTempDirectory("meterline-rw-bench");
        try (Receiver vm = Receiver.start(Receiver.Kind.VICTORIA_METRICS, tmp.resolve("vm"))) {
            Map<String, String> settings = RemoteWriteFixture.settings(vm.writeUrl());
            settings.put("lateness", "0s");
            settings.put("remote-write-delay", "1s");
            settings.put("remote-write-batch-size", batch);
            settings.put("remote-write-concurrency", concurrency);
            settings.put("max-series", String.valueOf(Math.max(1_000_000, series)));
            settings.put("max-series-per-metric", String.valueOf(Math.max(1_000_000, series)));
            try (TestServer m = TestServer.start(tmp.resolve("m"), settings)) {
                run(m, vm, series, seconds, connections);
            }
        }
    }

    /** CPU seconds so far of this process (Meterline runs in it) and of the VictoriaMetrics it started. */
    private static double[] cpu() {
        double own = ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
        double vm = ProcessHandle.current().descendants()
                .filter(h -> h.info().command().map(c -> c.contains("victoria-metrics")).orElse(false))
                .mapToDouble(h -> h.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(0.0)).sum();
        return new double[]{own, vm};
    }

    /** A counter of VictoriaMetrics' own {@code /metrics}, summed over its labels; NaN when unreadable. */
    private static double vmMeter(Receiver vm, String name) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(vm.base() + "/metrics"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            double total = 0;
            for (String line : r.body().split("\n")) {
                if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                    total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            return total;
        } catch (Exception e) {
            return Double.NaN;
        }
    }

    private static void run(TestServer m, Receiver vm, int series, int seconds, int connections) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> senders = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            StringBuilder sb = new StringBuilder();
            for (int s = c; s < series; s += connections) {
                sb.append("{\"metric\":\"bench\",\"value\":1,\"tags\":{\"s\":\"").append(s).append("\"}}\n");
            }
            byte[] pass = sb.toString().getBytes(StandardCharsets.UTF_8);
            Thread t = new Thread(() -> {
                try (Socket socket = new Socket("127.0.0.1", m.tcpPort())) {
                    OutputStream out = socket.getOutputStream();
                    while (!stop.get()) {
                        out.write(pass);
                    }
                    out.flush();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "bench-sender-" + c);
            t.start();
            senders.add(t);
        }
        long t0 = System.nanoTime();
        double maxLag = 0;
        double sentAtStop = 0;
        double previous = -1;
        double lastStored = -1;
        double exportedWhenStored = 0;
        long storedAt = t0;
        double[] cpuWhenStored = cpu();
        double[] requests = {0, 0};
        double newInVm = 0;
        System.out.println("second  stored_windows  exported_windows  lag_s  requests  mean_request_ms"
                + "  vm_new_series");
        for (int s = 1; ; s++) {
            LockSupport.parkNanos(t0 + TimeUnit.SECONDS.toNanos(s) - System.nanoTime());
            double stored = RemoteWriteFixture.meter(m, "meterline_windows_flushed_total");
            double exported = RemoteWriteFixture.meter(m, "meterline_remote_write_samples_sent_total") / 9;
            double lag = RemoteWriteFixture.meter(m, "meterline_remote_write_lag_seconds");
            double count = RemoteWriteFixture.meter(m, "meterline_remote_write_requests_seconds_count");
            double sum = RemoteWriteFixture.meter(m, "meterline_remote_write_requests_seconds_sum");
            double created = vmMeter(vm, "vm_new_timeseries_created_total");
            System.out.printf("%6d  %14.0f  %16.0f  %5.1f  %8.0f  %15.0f  %13.0f%n", s, stored, exported, lag,
                    count - requests[0], count > requests[0] ? (sum - requests[1]) * 1000 / (count - requests[0]) : 0,
                    created - newInVm);
            requests[0] = count;
            requests[1] = sum;
            newInVm = created;
            if (stored != lastStored) {
                lastStored = stored;
                exportedWhenStored = exported;
                storedAt = System.nanoTime();
                cpuWhenStored = cpu();
            }
            if (s <= seconds) {
                maxLag = Math.max(maxLag, lag);
            }
            if (s == seconds) {
                stop.set(true);
                for (Thread t : senders) {
                    t.join();
                }
                sentAtStop = exported;
            }
            boolean settled = exported == previous;
            previous = exported;
            if (s > seconds + 3 && lag == 0 && settled) {
                double elapsed = (System.nanoTime() - t0) / 1e9;
                // Seconds of the drain after the last flush, less the one-second poll that noticed it was done.
                double drain = (System.nanoTime() - storedAt) / 1e9 - 1;
                System.out.printf("after the last flush: %.0f windows exported in %.1f s: %.0f windows/s%n",
                        exported - exportedWhenStored, drain, (exported - exportedWhenStored) / drain);
                double[] cpuNow = cpu();
                double drained = (exported - exportedWhenStored) / 1000;
                System.out.printf("CPU after the last flush: Meterline (and this driver) %.1f s, %.1f ms per 1000"
                                + " windows; VictoriaMetrics %.1f s, %.1f ms per 1000 windows; load average %.1f%n",
                        cpuNow[0] - cpuWhenStored[0], (cpuNow[0] - cpuWhenStored[0]) * 1000 / drained,
                        cpuNow[1] - cpuWhenStored[1], (cpuNow[1] - cpuWhenStored[1]) * 1000 / drained,
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
                double accepted = RemoteWriteFixture.meter(m, "meterline_points_accepted_total");
                System.out.printf("ingest %d s: %.0f points accepted, %.0f windows stored, %.0f exported while"
                                + " ingest ran; max lag %.1f s; all %.0f windows exported after %.1f s: %.0f windows/s%n",
                        seconds, accepted, stored, sentAtStop, maxLag, exported, elapsed, exported / elapsed);
                double inVm = vm.await("sum(sum_over_time(bench_count[1h]))", v -> v == accepted,
                        Duration.ofSeconds(60));
                System.out.printf("VictoriaMetrics sum(sum_over_time(bench_count[1h])) = %.0f (accepted %.0f);"
                                + " corrections not sent: %.0f%n", inVm, accepted,
                        RemoteWriteFixture.meter(m, "meterline_remote_write_corrections_unsent_total"));
                return;
            }
            if (s > seconds + 600) {
                throw new IllegalStateException("backlog not drained 10 min after ingest stopped");
            }
        }
    }
}
