package dev.meterline.http;

import reactor.netty.http.server.HttpServerRoutes;

/**
 * A group of HTTP routes a feature mounts on the server. {@link HttpEdge} registers the groups in the order given,
 * after the authentication gate (but for the few groups open to anyone) and before the 404 that answers every
 * other path.
 */
@FunctionalInterface
public interface Routes {

    /** Adds this group's routes. */
    void register(HttpServerRoutes routes);
}
