package dev.meterline.model;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The domain model depends on no other Meterline package: stages and telemetry use it, never the reverse. */
class ModelDependenciesTest {

    @Test
    void modelImportsNoOtherMeterlinePackage() throws IOException {
        Path dir = Path.of("src/main/java/dev/meterline/model");
        List<String> offending = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                for (String line : Files.readAllLines(f)) {
                    String l = line.strip();
                    if (l.startsWith("import ") && l.contains("dev.meterline.")
                            && !l.matches("import (static )?dev\\.meterline\\.model\\..*")) {
                        offending.add(f.getFileName() + ": " + l);
                    }
                }
            }
        }
        assertTrue(Files.isRegularFile(dir.resolve("Reject.java")), "run from the project directory");
        assertEquals(List.of(), offending);
    }
}
