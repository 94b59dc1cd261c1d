package dev.meterline;

import dev.meterline.config.Config;
import dev.meterline.config.ConfigException;
import dev.meterline.config.Setting;
import dev.meterline.lifecycle.Signals;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CountDownLatch;

/** The Meterline server: reads its configuration, starts the pipeline, and stops it gracefully on SIGTERM. */
public final class Meterline {

    private Meterline() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            printHelp();
            return;
        }
        Config config;
        try {
            config = Config.load(System.getenv(), args);
        } catch (ConfigException e) {
            System.err.println("meterline: configuration error: " + e.getMessage());
            System.exit(2);
            return;
        }
        Logger log = LoggerFactory.getLogger(Meterline.class);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Pipeline pipeline = new Pipeline(config, registry, System::currentTimeMillis);
        CountDownLatch stopped = new CountDownLatch(1);
        Signals.onTermination(() -> {
            try {
                pipeline.stop().block();
            } finally {
                stopped.countDown();
            }
        });
        try {
            pipeline.start().block();
        } catch (RuntimeException e) {
            log.error("start-up failed: {}", rootMessage(e));
            System.err.println("meterline: start-up failed: " + rootMessage(e));
            System.exit(2);
            return;
        }
        System.out.println("meterline: listening tcp=" + pipeline.tcpPort() + " http=" + pipeline.httpPort());
        stopped.await();
        System.exit(0);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t
                && (t.getMessage() == null || t.getClass().getName().startsWith("reactor.core.Exceptions"))) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    private static void printHelp() {
        System.out.println("usage: java -jar meterline.jar [--setting=value …]\n");
        int flag = "flag".length();
        int env = "environment".length();
        int dflt = "(none)".length();
        for (Setting s : Config.SETTINGS) {
            flag = Math.max(flag, s.flag().length());
            env = Math.max(env, s.envVar().length());
            dflt = Math.max(dflt, s.defaultValue().length());
        }
        // Columns as wide as their longest entry, so that every row lines up.
        String row = "%-" + flag + "s  %-" + env + "s  %-" + dflt + "s  %s%n";
        System.out.printf(row, "flag", "environment", "default", "meaning");
        for (Setting s : Config.SETTINGS) {
            System.out.printf(row, s.flag(), s.envVar(), s.defaultValue().isEmpty() ? "(none)" : s.defaultValue(),
                    s.help());
        }
    }
}
