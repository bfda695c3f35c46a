package io.mcpguard.identity;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Objects;

/**
 * Authenticates the caller of one HTTP request from its headers, for the transport gate. It runs before any body byte
 * is read and must not read the body: a request without valid credentials costs no body read and no parse. An
 * authenticator that throws refuses the request (fail closed).
 */
@FunctionalInterface
public interface HttpAuthenticator {

    /**
     * Authenticates one request.
     *
     * @param request the request (headers, remote address; never the body)
     * @return the verified identity, or how to refuse
     */
    Result authenticate(HttpServletRequest request);

    /** What an authenticator decided. */
    sealed interface Result permits Authenticated, Refused {
    }

    /**
     * The caller is verified.
     *
     * @param agent its identity
     */
    record Authenticated(AgentIdentity agent) implements Result {

        /**
         * Checks the identity.
         *
         * @param agent the identity
         */
        public Authenticated {
            Objects.requireNonNull(agent, "agent");
        }
    }

    /**
     * The caller is refused.
     *
     * @param status the HTTP status, 401 (no or bad credentials) or 403 (credentials lack what the call needs)
     * @param wwwAuthenticate the {@code WWW-Authenticate} challenge, or {@code null}
     */
    record Refused(int status, String wwwAuthenticate) implements Result {

        /**
         * Checks the status.
         *
         * @param status the status
         * @param wwwAuthenticate the challenge
         */
        public Refused {
            if (status != 401 && status != 403) {
                throw new IllegalArgumentException("an authentication refusal is 401 or 403, got " + status);
            }
        }
    }
}
