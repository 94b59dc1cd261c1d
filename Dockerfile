# Meterline container image: a build stage with the JDK and the Maven wrapper, and a run stage with only a JRE
# and the shaded jar. Build from the repository root:
#   docker build -t REGISTRY/meterline:TAG .

# ---- build ------------------------------------------------------------------------------------------------
FROM eclipse-temurin:17-jdk-noble AS build
WORKDIR /src

# Dependencies first: this layer is rebuilt only when the pom or the wrapper changes, not on every source edit.
# resolve + resolve-plugins rather than dependency:go-offline: go-offline also tries to fetch the optional
# dependencies of our dependencies and fails on one that is not published (micrometer-core's optional
# io.grpc:grpc-api; MDEP-690). These two goals fetch everything `package` needs (checked with an offline build
# against a fresh local repository); anything a future plugin adds is fetched by the package step.
COPY mvnw pom.xml ./
COPY .mvn .mvn
RUN ./mvnw -B -q dependency:resolve dependency:resolve-plugins

COPY src src
RUN ./mvnw -B -q -DskipTests package

# ---- run --------------------------------------------------------------------------------------------------
FROM eclipse-temurin:17-jre-noble

# A fixed UID/GID, so the Kubernetes securityContext (runAsUser/fsGroup 10001) and volume ownership agree
# with the image.
RUN groupadd --system --gid 10001 meterline \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin meterline \
 && mkdir -p /data /app \
 && chown 10001:10001 /data

COPY --from=build /src/target/meterline.jar /app/meterline.jar

# The JVM sizes its heap from the container's memory limit (75 % of it; the rest is for metaspace, threads and
# Netty's direct buffers) and exits on OutOfMemoryError instead of limping on, so the orchestrator restarts it.
# Temporary files go to /tmp, which the Kubernetes manifests mount as a writable emptyDir because the root
# filesystem is read-only; sqlite-jdbc extracts its native library into org.sqlite.tmpdir (default: java.io.tmpdir),
# and JNA, which lowers the ingest threads' scheduling priority, its own into java.io.tmpdir.
# These are in JAVA_TOOL_OPTIONS rather than in the ENTRYPOINT so a deployment can replace them as a whole.
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -Djava.io.tmpdir=/tmp -Dorg.sqlite.tmpdir=/tmp" \
    METERLINE_DATA_DIR=/data

# Declared after the chown above: changes made to a volume path after VOLUME are discarded.
VOLUME ["/data"]
EXPOSE 7070 8080
USER 10001:10001
WORKDIR /app

# Exec form (a JSON array): java itself is PID 1 and receives SIGTERM from `docker stop` or the kubelet, so
# Meterline's shutdown hook runs its drain and final flush. The shell form would wrap java in `/bin/sh -c`,
# which does not forward SIGTERM; the JVM would then be SIGKILLed at the end of the grace period and open
# windows would be lost. Settings can be given as flags after the image name, e.g. `--overflow drop`.
ENTRYPOINT ["java", "-jar", "/app/meterline.jar"]
