package io.mcpguard.transport;

import io.mcpguard.McpGuard;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.HttpAuthenticator;
import io.mcpguard.pipeline.Call;
import io.mcpguard.pipeline.Catalog;
import io.mcpguard.pipeline.NotFound;
import io.mcpguard.pipeline.Operation;
import io.mcpguard.pipeline.Pipeline;
import io.mcpguard.pipeline.Preadmitted;
import io.mcpguard.pipeline.Probes;
import io.mcpguard.pipeline.Start;
import io.mcpguard.pipeline.Target;
import io.mcpguard.policy.Primitive;
import io.mcpguard.support.CanonicalJson;
import io.mcpguard.support.Clocks;
import io.mcpguard.support.LogSafe;
import io.mcpguard.telemetry.McpTelemetryNames;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.server.McpTransportContextExtractor;
import io.modelcontextprotocol.server.transport.HeaderAccessor;
import io.modelcontextprotocol.server.transport.ServerHttpHeaderValidator;
import io.modelcontextprotocol.server.transport.ServerTransportSecurityException;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transport gate: the one component that guards an MCP HTTP endpoint before the SDK's transport sees a request.
 *
 * <ol>
 *   <li>Host and Origin are checked (DNS-rebinding protection), then credentials, from the headers alone: a request
 *       without valid credentials is refused with 401 and {@code Connection: close}, and costs no body read.</li>
 *   <li>The body is refused with 413 before it is read when it declares a size over the limit, and while it is read
 *       when it grows past it; a body that is not JSON is refused with 415.</li>
 *   <li>The body is read once with the SDK's own JSON-RPC parser, so the gate concludes what the SDK would; method,
 *       id, names and URIs with control characters are refused.</li>
 *   <li>Sessions belong to the agent that opened them: any other caller naming one gets the same answer as for a
 *       session that does not exist, on POST, GET and DELETE alike. Sessions per agent are capped; idle ones
 *       expire.</li>
 *   <li>Lists ({@code tools/list}, {@code resources/list}, {@code resources/templates/list}, {@code prompts/list})
 *       are answered from the guard's catalog, filtered for the caller. A call, read, get, subscribe or completion
 *       naming something the caller may not see is answered here with the SDK's own error for a missing name, whether
 *       the name is hidden or missing, after the same work; spans and audit records for it are written after the
 *       answer is on its way.</li>
 *   <li>Everything else goes to the transport with the identity in the request (the transport's context extractor
 *       must be {@link #contextExtractor()}), and error bodies come back without SDK internals.</li>
 * </ol>
 *
 * Build it with {@link McpGuardHttp}; serve it with {@link GuardedServlet} (plain SDK) or {@link McpGuardFilter}.
 */
public final class McpGate implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(McpGate.class);

    /** The request attribute that carries the verified identity from the gate to the context extractor. */
    public static final String AGENT_ATTRIBUTE = "io.mcpguard.agent";

    /** The request attribute that carries a call the gate admitted ahead of the SDK to the context extractor. */
    public static final String PREADMITTED_ATTRIBUTE = Preadmitted.CONTEXT_KEY;

    /** How often a call waiting for approval writes to its stream (to notice a client that went away). */
    public static final Duration DEFAULT_WAITING_PING = Duration.ofSeconds(10);

    /**
     * How long the gate waits between its two writes to a held call's stream before an approved call runs: a client
     * that closed its connection answers the first write with a reset, which the second write sees. Longer than the
     * round trip to the client.
     */
    public static final Duration DEFAULT_WAITING_PROBE = Duration.ofMillis(500);

    /** The largest authenticated request body accepted unless configured otherwise. */
    public static final int DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

    /** How long an authenticated body may take to arrive unless configured otherwise; then 408. */
    public static final Duration DEFAULT_BODY_READ_TIMEOUT = Duration.ofSeconds(30);

    /** How many bodies one agent may have arriving slowly at once unless configured otherwise; more get 429. */
    public static final int DEFAULT_SLOW_BODIES_PER_AGENT = 8;

    /** The most sessions one agent may hold open unless configured otherwise. */
    public static final int DEFAULT_SESSIONS_PER_AGENT = 16;

    /** How long a session may go without a request (and without an open stream) before it expires. */
    public static final Duration DEFAULT_SESSION_IDLE = Duration.ofMinutes(15);

    /** How the SDK's default URI template manager recognises a template. */
    private static final java.util.regex.Pattern TEMPLATE_VARIABLE = java.util.regex.Pattern.compile("\\{([^/]+?)\\}");

    /** Whether the transport behind the gate keeps sessions (Streamable HTTP) or not (stateless). */
    public enum Mode {
        /** Streamable HTTP: sessions, answers as SSE events. */
        STREAMABLE,
        /** Stateless Streamable HTTP: no sessions, answers as JSON. */
        STATELESS
    }

    private final Pipeline pipeline;
    private final HttpAuthenticator authenticator;
    private final ServerHttpHeaderValidator headerValidator;
    private final Mode mode;
    private final int maxBodyBytes;
    private final McpJsonMapper mapper;
    private final Sessions sessions;
    private final ThreadPoolExecutor recorder;
    private final ScheduledExecutorService sweeper;
    private final AtomicLong recordsDropped = new AtomicLong();
    private final WaitingRoom waitingRoom;
    private final Duration bodyReadTimeout;
    private final PerAgentCount bodyReads;

    private McpGate(Builder builder) {
        this.pipeline = builder.guard.pipeline();
        this.authenticator = builder.authenticator;
        this.headerValidator = builder.headerValidator;
        this.mode = builder.mode;
        this.maxBodyBytes = builder.maxBodyBytes;
        this.bodyReadTimeout = builder.bodyReadTimeout;
        this.bodyReads = new PerAgentCount(builder.slowBodiesPerAgent);
        this.mapper = builder.mapper == null ? McpJsonDefaults.getMapper() : builder.mapper;
        this.sessions = new Sessions(builder.sessionsPerAgent, builder.sessionIdle, builder.clock);
        this.waitingRoom = new WaitingRoom(builder.mode == Mode.STREAMABLE, builder.waitingPing,
                builder.waitingProbe);
        this.recorder = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(4096),
                daemon("mcp-guard-gate-recorder"), (task, executor) -> recordsDropped.incrementAndGet());
        if (mode == Mode.STREAMABLE && builder.sweepSessions) {
            this.sweeper = Executors.newSingleThreadScheduledExecutor(daemon("mcp-guard-gate-sessions"));
            long every = Math.max(1, builder.sessionIdle.toMillis() / 4);
            sweeper.scheduleWithFixedDelay(this::sweepQuietly, every, every, TimeUnit.MILLISECONDS);
        } else {
            this.sweeper = null;
        }
    }

    /**
     * Starts a gate for a guard.
     *
     * @param guard the guard whose pipeline and catalog the gate answers from
     * @param authenticator how callers are verified, from headers only
     * @return a builder
     */
    public static Builder builder(McpGuard guard, HttpAuthenticator authenticator) {
        return new Builder(guard, authenticator);
    }

    /**
     * The context extractor to give the SDK transport: it hands the identity the gate verified (never a credential)
     * to the guard through the {@link McpTransportContext}, with the client's address.
     *
     * @return the extractor
     */
    public McpTransportContextExtractor<HttpServletRequest> contextExtractor() {
        return Gate::context;
    }

    /** Where the gate passes a request it does not answer itself. */
    @FunctionalInterface
    public interface Downstream {

        /**
         * Serves the request.
         *
         * @param request the request (its body already read by the gate, replayed)
         * @param response the response
         * @throws IOException as the servlet API does
         * @throws ServletException as the servlet API does
         */
        void serve(HttpServletRequest request, HttpServletResponse response) throws IOException, ServletException;
    }

    /**
     * Guards one request.
     *
     * @param request the request
     * @param response the response
     * @param downstream the SDK transport
     * @throws IOException as the servlet API does
     * @throws ServletException as the servlet API does
     */
    public void handle(HttpServletRequest request, HttpServletResponse response, Downstream downstream)
            throws IOException, ServletException {
        if (request.getDispatcherType() == DispatcherType.ASYNC
                && request.getAttribute(WaitingRoom.HELD) instanceof WaitingRoom.Body held) {
            // A call held for approval comes back with its decision: serve it to the SDK as it was sent.
            request.removeAttribute(WaitingRoom.HELD);
            forward(request, response, downstream, held.bytes(), held.charset(), held.sessionId());
            return;
        }
        if (request.getDispatcherType() == DispatcherType.ASYNC
                && request.getAttribute(BodyReader.READ) instanceof byte[] body
                && request.getAttribute(AGENT_ATTRIBUTE) instanceof AgentIdentity agent) {
            // A body that arrived slowly was read without a thread; go on where the first dispatch stopped.
            request.removeAttribute(BodyReader.READ);
            post(request, response, downstream, agent, body);
            return;
        }
        String method = request.getMethod();
        if (!"POST".equals(method) && !"GET".equals(method) && !"DELETE".equals(method)) {
            Responses.error(response, 405, -32601, "Method not allowed");
            return;
        }
        try {
            headerValidator.validate(new Headers(request));
        } catch (ServerTransportSecurityException e) {
            refuse(response, e.getStatusCode() == 421 || e.getStatusCode() == 403 ? e.getStatusCode() : 403);
            return;
        } catch (RuntimeException e) {
            log.warn("Header validator failed; refusing the request (fail closed)", LogSafe.throwable(e));
            refuse(response, 403);
            return;
        }
        AgentIdentity agent = authenticate(request, response);
        if (agent == null) {
            return;
        }
        request.setAttribute(AGENT_ATTRIBUTE, agent);
        switch (method) {
            case "GET" -> stream(request, response, downstream, agent);
            case "DELETE" -> delete(request, response, downstream, agent);
            default -> post(request, response, downstream, agent);
        }
    }

    private AgentIdentity authenticate(HttpServletRequest request, HttpServletResponse response) throws IOException {
        HttpAuthenticator.Result result;
        try {
            result = authenticator.authenticate(request);
        } catch (RuntimeException e) {
            log.warn("Authenticator failed; refusing the request (fail closed)", LogSafe.throwable(e));
            result = null;
        }
        if (result instanceof HttpAuthenticator.Authenticated authenticated) {
            return authenticated.agent();
        }
        HttpAuthenticator.Refused refused = result instanceof HttpAuthenticator.Refused r ? r
                : new HttpAuthenticator.Refused(401, null);
        if (refused.wwwAuthenticate() != null) {
            response.setHeader("WWW-Authenticate", refused.wwwAuthenticate());
        }
        refuse(response, refused.status());
        return null;
    }

    /** Refuses before the body: the connection closes, so the container does not read what the client still sends. */
    private static void refuse(HttpServletResponse response, int status) throws IOException {
        response.setHeader("Connection", "close");
        Responses.error(response, status, Responses.REFUSED, switch (status) {
            case 401 -> "Unauthorized";
            case 408 -> "Request timeout";
            case 413 -> "Request too large";
            case 421 -> "Misdirected request";
            case 429 -> "Too many requests";
            default -> "Forbidden";
        });
    }

    // ---- GET and DELETE ----

    private void stream(HttpServletRequest request, HttpServletResponse response, Downstream downstream,
            AgentIdentity agent) throws IOException, ServletException {
        if (mode == Mode.STATELESS) {
            downstream.serve(request, new Wrappers.SanitizingResponse(response));
            return;
        }
        Sessions.Session session = owned(request, agent, "GET", "stream");
        if (session == null) {
            sessionNotFound(response);
            return;
        }
        var wrapped = new Wrappers.SanitizingResponse(response);
        downstream.serve(new Wrappers.BodyRequest(request, null, StandardCharsets.UTF_8,
                context -> sessions.attach(session, context)), wrapped);
        forgetIfTransportLost(session.id, wrapped);
    }

    private void delete(HttpServletRequest request, HttpServletResponse response, Downstream downstream,
            AgentIdentity agent) throws IOException, ServletException {
        if (mode == Mode.STATELESS) {
            downstream.serve(request, new Wrappers.SanitizingResponse(response));
            return;
        }
        Sessions.Session session = owned(request, agent, "DELETE", "delete");
        if (session == null) {
            sessionNotFound(response);
            return;
        }
        var wrapped = new Wrappers.SanitizingResponse(response);
        downstream.serve(request, wrapped);
        if (wrapped.status < 300 || wrapped.status == 404) {
            sessions.closed(session.id);
        }
    }

    /**
     * The caller's session named by the request, or {@code null}; naming another agent's session is audited (and
     * answered exactly as a session that does not exist).
     */
    private Sessions.Session owned(HttpServletRequest request, AgentIdentity agent, String method, String what) {
        String id = request.getHeader("Mcp-Session-Id");
        Sessions.Session session = sessions.owned(id, agent.agentId());
        if (session == null) {
            String owner = sessions.ownerOf(id);
            if (owner != null) {
                submit(() -> pipeline.recordForeignSession(agent, method, what, owner));
            }
        }
        return session;
    }

    private static String methodOf(McpSchema.JSONRPCMessage message) {
        if (message instanceof McpSchema.JSONRPCRequest r) {
            return r.method();
        }
        return message instanceof McpSchema.JSONRPCNotification n ? n.method() : "response";
    }

    private static String kindOf(McpSchema.JSONRPCMessage message) {
        if (message instanceof McpSchema.JSONRPCRequest) {
            return "request";
        }
        return message instanceof McpSchema.JSONRPCNotification ? "notification" : "response";
    }

    private void forgetIfTransportLost(String sessionId, Wrappers.SanitizingResponse response) {
        if (response.status == 404) {
            sessions.closed(sessionId); // the transport no longer knows it (its own sweeper, a restart)
        }
    }

    private static void sessionNotFound(HttpServletResponse response) throws IOException {
        Responses.error(response, 404, Responses.SESSION_NOT_FOUND, "Session not found");
    }

    // ---- POST ----

    private void post(HttpServletRequest request, HttpServletResponse response, Downstream downstream,
            AgentIdentity agent) throws IOException, ServletException {
        if (!isJson(request.getContentType())) {
            Responses.error(response, 415, Responses.INVALID_REQUEST, "Unsupported media type");
            return;
        }
        long declared = request.getContentLengthLong();
        if (declared > maxBodyBytes) {
            refuse(response, 413);
            return;
        }
        jakarta.servlet.ServletInputStream in = request.getInputStream();
        if (declared >= 0 && in.available() >= declared || !request.isAsyncSupported()) {
            // The whole body is already here (the usual small request): read it without waiting.
            byte[] body = readBody(in);
            if (body == null) {
                refuse(response, 413);
                return;
            }
            post(request, response, downstream, agent, body);
            return;
        }
        // The body is still on its way: read it without holding a thread, within a deadline and a per-agent cap.
        if (!bodyReads.begin(agent.agentId())) {
            response.setHeader("Retry-After", "1");
            refuse(response, 429);
            return;
        }
        BodyReader.start(request, response, in, maxBodyBytes, bodyReadTimeout,
                () -> bodyReads.end(agent.agentId()));
    }

    private void post(HttpServletRequest request, HttpServletResponse response, Downstream downstream,
            AgentIdentity agent, byte[] body) throws IOException, ServletException {
        Charset charset = charset(request);
        McpSchema.JSONRPCMessage message;
        try {
            message = McpSchema.deserializeJsonRpcMessage(mapper, new String(body, charset));
        } catch (IOException | RuntimeException e) {
            Responses.error(response, 400, Responses.INVALID_REQUEST, "Invalid request");
            return;
        }
        if (!wellFormed(message)) {
            Responses.error(response, 400, Responses.INVALID_REQUEST, "Invalid request");
            return;
        }
        if (message instanceof McpSchema.JSONRPCRequest call && "initialize".equals(call.method())) {
            initialize(request, response, downstream, agent, body, charset);
            return;
        }
        String sessionId = null;
        if (mode == Mode.STREAMABLE) {
            Sessions.Session session = owned(request, agent, methodOf(message), kindOf(message));
            if (session == null) {
                sessionNotFound(response);
                return;
            }
            sessionId = session.id;
        }
        if (message instanceof McpSchema.JSONRPCRequest call && answer(call, request, response, agent, sessionId)) {
            return;
        }
        if (message instanceof McpSchema.JSONRPCRequest call && "tools/call".equals(call.method())
                && admitAhead(call, request, response, downstream, agent, sessionId, body, charset)) {
            return;
        }
        if (message instanceof McpSchema.JSONRPCNotification note && "notifications/cancelled".equals(note.method())
                && note.params() instanceof Map<?, ?> cancelled) {
            waitingRoom.cancel(heldKey(sessionId, cancelled.get("requestId")), agent.agentId());
        }
        forward(request, response, downstream, body, charset, sessionId);
    }

    private void forward(HttpServletRequest request, HttpServletResponse response, Downstream downstream,
            byte[] body, Charset charset, String sessionId) throws IOException, ServletException {
        var wrapped = new Wrappers.SanitizingResponse(response);
        try {
            downstream.serve(new Wrappers.BodyRequest(request, body, charset, null), wrapped);
        } finally {
            if (request.getAttribute(PREADMITTED_ATTRIBUTE) instanceof Preadmitted pre) {
                pre.unclaimed();
            }
        }
        if (sessionId != null) {
            forgetIfTransportLost(sessionId, wrapped);
        }
    }

    /**
     * In the waiting mode, a call that may need a person is admitted here, ahead of the SDK: if it must wait, the
     * request is held in the waiting room (no thread, slot or permit); otherwise the decision goes to the handler
     * with the request. Returns whether the request was handled.
     */
    private boolean admitAhead(McpSchema.JSONRPCRequest jsonrpc, HttpServletRequest request,
            HttpServletResponse response, Downstream downstream, AgentIdentity agent, String sessionId, byte[] body,
            Charset charset) throws IOException, ServletException {
        McpSchema.CallToolRequest params = params(jsonrpc, McpSchema.CallToolRequest.class);
        Target target = params == null ? null : pipeline.catalog().view(agent).tool(params.name());
        if (target == null || !pipeline.waitsInGate(target)) {
            return false;
        }
        Call call = new Call(Operation.TOOL_CALL, target, params.name(), params.arguments(), params.meta(),
                context(request), sessionId, null);
        Start start = pipeline.startInGate(call);
        if (start instanceof Start.Waiting waiting) {
            String owner = sessionId;
            waitingRoom.hold(heldKey(sessionId, jsonrpc.id()), agent.agentId(), call, waiting, request, response,
                    new WaitingRoom.Body(body, charset, sessionId),
                    () -> owner == null || sessions.owned(owner, agent.agentId()) != null);
            return true;
        }
        request.setAttribute(PREADMITTED_ATTRIBUTE, new Preadmitted(call, start));
        forward(request, response, downstream, body, charset, sessionId);
        return true;
    }

    /** A held call's name for {@code notifications/cancelled}: its session and its JSON-RPC id as JSON. */
    private String heldKey(String sessionId, Object requestId) {
        if (requestId == null) {
            return null;
        }
        try {
            return (sessionId == null ? "" : sessionId) + '\u0000' + CanonicalJson.ofExact(requestId);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Returns how many calls wait for approval in the gate.
     *
     * @return the count
     */
    public int heldCalls() {
        return waitingRoom.size();
    }

    private void initialize(HttpServletRequest request, HttpServletResponse response, Downstream downstream,
            AgentIdentity agent, byte[] body, Charset charset) throws IOException, ServletException {
        if (mode == Mode.STATELESS) {
            downstream.serve(new Wrappers.BodyRequest(request, body, charset, null),
                    new Wrappers.SanitizingResponse(response));
            return;
        }
        if (!sessions.reserve(agent.agentId())) {
            log.warn("Agent '{}' holds the most sessions it may; refusing a new one", LogSafe.text(agent.agentId()));
            response.setHeader("Retry-After", "60");
            Responses.error(response, 429, Responses.REFUSED, "Too many sessions");
            return;
        }
        var wrapped = new Wrappers.SanitizingResponse(response);
        boolean opened = false;
        try {
            downstream.serve(new Wrappers.BodyRequest(request, body, charset, null), wrapped);
            String id = wrapped.sessionId;
            if (id != null && wrapped.status < 300) {
                sessions.opened(id, agent.agentId());
                opened = true;
            }
        } finally {
            if (!opened) {
                sessions.unreserve(agent.agentId());
            }
        }
    }

    /** Answers what the gate owns: lists, and names the caller may not see. Returns whether it answered. */
    private boolean answer(McpSchema.JSONRPCRequest call, HttpServletRequest request, HttpServletResponse response,
            AgentIdentity agent, String sessionId) throws IOException {
        Catalog.View view;
        switch (call.method()) {
            case "tools/list" -> {
                view = pipeline.catalog().view(agent);
                reply(response, sessionId, call, McpSchema.ListToolsResult.builder(view.tools()).build());
                recordList(request, "tools/list", agent, view.tools().size(), view.hidden(Primitive.Kind.TOOL));
                return true;
            }
            case "resources/list" -> {
                view = pipeline.catalog().view(agent);
                reply(response, sessionId, call, McpSchema.ListResourcesResult.builder(view.resources()).build());
                recordList(request, "resources/list", agent, view.resources().size(),
                        view.hidden(Primitive.Kind.RESOURCE));
                return true;
            }
            case "resources/templates/list" -> {
                view = pipeline.catalog().view(agent);
                reply(response, sessionId, call,
                        McpSchema.ListResourceTemplatesResult.builder(view.resourceTemplates()).build());
                recordList(request, "resources/templates/list", agent, view.resourceTemplates().size(),
                        view.hidden(Primitive.Kind.RESOURCE_TEMPLATE));
                return true;
            }
            case "prompts/list" -> {
                view = pipeline.catalog().view(agent);
                reply(response, sessionId, call, McpSchema.ListPromptsResult.builder(view.prompts()).build());
                recordList(request, "prompts/list", agent, view.prompts().size(),
                        view.hidden(Primitive.Kind.PROMPT));
                return true;
            }
            case "tools/call" -> {
                McpSchema.CallToolRequest params = params(call, McpSchema.CallToolRequest.class);
                if (params == null || params.name() == null) {
                    return invalidParams(response, sessionId, call);
                }
                if (pipeline.catalog().view(agent).tool(params.name()) != null) {
                    return false;
                }
                Probes.Verdict verdict = pipeline.probe(agent, params.name());
                if (verdict == Probes.Verdict.REFUSE) {
                    return tooManyProbes(response);
                }
                unanswerable(response, sessionId, call, NotFound.tool(params.name()));
                if (verdict == Probes.Verdict.RECORD) {
                    recordLater(request, Operation.TOOL_CALL, sessionId, params.name(), params.arguments(),
                            params.meta(), Primitive.Kind.TOOL);
                }
                return true;
            }
            case "resources/read" -> {
                McpSchema.ReadResourceRequest params = params(call, McpSchema.ReadResourceRequest.class);
                if (params == null || params.uri() == null) {
                    return invalidParams(response, sessionId, call);
                }
                if (pipeline.catalog().view(agent).resolveResource(params.uri()) != null) {
                    return false;
                }
                Probes.Verdict verdict = pipeline.probe(agent, params.uri());
                if (verdict == Probes.Verdict.REFUSE) {
                    return tooManyProbes(response);
                }
                unanswerable(response, sessionId, call, NotFound.resource(params.uri()));
                if (verdict == Probes.Verdict.RECORD) {
                    recordLater(request, Operation.RESOURCE_READ, sessionId, params.uri(), null, params.meta(),
                            Primitive.Kind.RESOURCE);
                }
                return true;
            }
            case "resources/subscribe" -> {
                McpSchema.SubscribeRequest params = params(call, McpSchema.SubscribeRequest.class);
                if (params == null || params.uri() == null) {
                    return invalidParams(response, sessionId, call);
                }
                if (pipeline.catalog().view(agent).resolveResource(params.uri()) != null) {
                    return false;
                }
                // The SDK accepts a subscription to any URI: a hidden one is accepted the same way, and never notified.
                Probes.Verdict verdict = pipeline.probe(agent, params.uri());
                if (verdict == Probes.Verdict.REFUSE) {
                    return tooManyProbes(response);
                }
                reply(response, sessionId, call, Map.of());
                if (verdict == Probes.Verdict.RECORD) {
                    recordLater(request, Operation.RESOURCE_SUBSCRIBE, sessionId, params.uri(), null, params.meta(),
                            Primitive.Kind.RESOURCE);
                }
                return true;
            }
            case "prompts/get" -> {
                McpSchema.GetPromptRequest params = params(call, McpSchema.GetPromptRequest.class);
                if (params == null || params.name() == null) {
                    return invalidParams(response, sessionId, call);
                }
                if (pipeline.catalog().view(agent).prompt(params.name()) != null) {
                    return false;
                }
                Probes.Verdict verdict = pipeline.probe(agent, params.name());
                if (verdict == Probes.Verdict.REFUSE) {
                    return tooManyProbes(response);
                }
                unanswerable(response, sessionId, call, NotFound.prompt(params.name()));
                if (verdict == Probes.Verdict.RECORD) {
                    recordLater(request, Operation.PROMPT_GET, sessionId, params.name(), params.arguments(),
                            params.meta(), Primitive.Kind.PROMPT);
                }
                return true;
            }
            case "completion/complete" -> {
                return completion(call, request, response, agent, sessionId);
            }
            default -> {
                return false;
            }
        }
    }

    private boolean completion(McpSchema.JSONRPCRequest call, HttpServletRequest request,
            HttpServletResponse response, AgentIdentity agent, String sessionId) throws IOException {
        McpSchema.CompleteRequest params = params(call, McpSchema.CompleteRequest.class);
        if (params == null || params.ref() == null || params.argument() == null) {
            return invalidParams(response, sessionId, call);
        }
        Catalog.View view = pipeline.catalog().view(agent);
        if (params.ref() instanceof McpSchema.PromptReference prompt && prompt.name() != null) {
            if (view.prompt(prompt.name()) != null) {
                return false;
            }
            Probes.Verdict verdict = pipeline.probe(agent, prompt.name());
            if (verdict == Probes.Verdict.REFUSE) {
                return tooManyProbes(response);
            }
            unanswerable(response, sessionId, call, NotFound.completionPrompt(prompt.name()));
            if (verdict == Probes.Verdict.RECORD) {
                recordLater(request, Operation.COMPLETE, sessionId, prompt.name(), null, params.meta(),
                        Primitive.Kind.PROMPT);
            }
            return true;
        }
        if (params.ref() instanceof McpSchema.ResourceReference resource && resource.uri() != null) {
            if (!TEMPLATE_VARIABLE.matcher(resource.uri()).find() || view.template(resource.uri()) != null
                    || view.resolveResource(resource.uri()) != null) {
                return false; // not a template reference (the SDK answers an empty completion), or visible
            }
            Probes.Verdict verdict = pipeline.probe(agent, resource.uri());
            if (verdict == Probes.Verdict.REFUSE) {
                return tooManyProbes(response);
            }
            unanswerable(response, sessionId, call, NotFound.resource(resource.uri()));
            if (verdict == Probes.Verdict.RECORD) {
                recordLater(request, Operation.COMPLETE, sessionId, resource.uri(), null, params.meta(),
                        Primitive.Kind.RESOURCE_TEMPLATE);
            }
            return true;
        }
        return invalidParams(response, sessionId, call);
    }

    /** Too many uses of names the caller may not see in this window: 429, the same for hidden and missing names. */
    private boolean tooManyProbes(HttpServletResponse response) throws IOException {
        response.setHeader("Retry-After", Long.toString(Math.max(1, pipeline.probeWindow().toSeconds())));
        Responses.error(response, 429, Responses.REFUSED, "Too many requests");
        return true;
    }

    /**
     * Params the SDK cannot convert would fail inside it with an exception text (a Jackson or null-pointer message)
     * in the answer: the gate answers them itself, plainly.
     */
    private boolean invalidParams(HttpServletResponse response, String sessionId, McpSchema.JSONRPCRequest call)
            throws IOException {
        unanswerable(response, sessionId, call, McpError.builder(McpSchema.ErrorCodes.INVALID_PARAMS)
                .message("Invalid params").build());
        return true;
    }

    private <T> T params(McpSchema.JSONRPCRequest call, Class<T> type) {
        try {
            return mapper.convertValue(call.params(), type);
        } catch (RuntimeException e) {
            return null; // the SDK's own conversion fails the same way
        }
    }

    private void reply(HttpServletResponse response, String sessionId, McpSchema.JSONRPCRequest call, Object result)
            throws IOException {
        write(response, sessionId, mapper.writeValueAsString(McpSchema.JSONRPCResponse.result(call.id(), result)));
    }

    private void unanswerable(HttpServletResponse response, String sessionId, McpSchema.JSONRPCRequest call,
            McpError error) throws IOException {
        write(response, sessionId, mapper.writeValueAsString(McpSchema.JSONRPCResponse.error(call.id(),
                error.getJsonRpcError())));
    }

    private void write(HttpServletResponse response, String sessionId, String json) throws IOException {
        if (mode == Mode.STREAMABLE) {
            Responses.sse(response, sessionId, json);
        } else {
            Responses.json(response, json);
        }
    }

    private void recordList(HttpServletRequest request, String method, AgentIdentity agent, long listed,
            long hidden) {
        McpTransportContext context = context(request);
        submit(() -> pipeline.recordList(method, context, agent, listed, hidden));
    }

    private void recordLater(HttpServletRequest request, Operation operation, String sessionId, String name,
            Map<String, Object> arguments, Map<String, Object> meta, Primitive.Kind kind) {
        McpTransportContext context = context(request);
        submit(() -> pipeline.recordUnanswered(operation, context, sessionId, name, arguments, meta, kind));
    }

    private void submit(Runnable record) {
        try {
            recorder.execute(() -> {
                try {
                    record.run();
                } catch (RuntimeException e) {
                    log.warn("Recording a request the gate answered failed", LogSafe.throwable(e));
                }
            });
        } catch (RuntimeException e) {
            recordsDropped.incrementAndGet();
        }
    }

    /**
     * Returns how many records of requests the gate answered itself were dropped because the recorder was behind.
     *
     * @return the count
     */
    public long recordsDropped() {
        return recordsDropped.get();
    }

    /**
     * Returns how many request bodies of an agent are arriving (read without a thread) right now.
     *
     * @param agentId the agent
     * @return the count
     */
    public int slowBodies(String agentId) {
        return bodyReads.held(agentId);
    }

    /**
     * Returns how many sessions are open.
     *
     * @return the count
     */
    public int openSessions() {
        return sessions.size();
    }

    /**
     * Expires idle sessions now (the gate also does it in the background).
     *
     * @return how many expired
     */
    public int sweepSessions() {
        return sessions.sweep();
    }

    private void sweepQuietly() {
        try {
            sessions.sweep();
        } catch (RuntimeException e) {
            log.warn("Expiring idle sessions failed", LogSafe.throwable(e));
        }
    }

    /** A method, id, name or URI with a control character is refused: nothing may log it as it came. */
    private boolean wellFormed(McpSchema.JSONRPCMessage message) {
        if (message instanceof McpSchema.JSONRPCRequest call) {
            return clean(call.method()) && clean(call.id()) && cleanTarget(call.params());
        }
        if (message instanceof McpSchema.JSONRPCNotification notification) {
            return clean(notification.method());
        }
        if (message instanceof McpSchema.JSONRPCResponse answer) {
            return clean(answer.id());
        }
        return false;
    }

    private static boolean clean(Object value) {
        return !(value instanceof String s) || !LogSafe.hasControl(s);
    }

    private static boolean cleanTarget(Object params) {
        if (params instanceof Map<?, ?> map) {
            return clean(map.get("name")) && clean(map.get("uri"))
                    && (!(map.get("ref") instanceof Map<?, ?> ref) || clean(ref.get("name")) && clean(ref.get("uri")));
        }
        return true;
    }

    private byte[] readBody(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) != -1) {
            if (out.size() + n > maxBodyBytes) {
                return null;
            }
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }

    private static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semicolon = contentType.indexOf(';');
        String type = semicolon < 0 ? contentType : contentType.substring(0, semicolon);
        return "application/json".equalsIgnoreCase(type.trim());
    }

    private static Charset charset(HttpServletRequest request) {
        String encoding = request.getCharacterEncoding();
        try {
            return encoding == null ? StandardCharsets.UTF_8 : Charset.forName(encoding);
        } catch (RuntimeException e) {
            return StandardCharsets.UTF_8;
        }
    }

    private static McpTransportContext context(HttpServletRequest request) {
        return Gate.context(request);
    }

    @Override
    public void close() {
        waitingRoom.close();
        if (sweeper != null) {
            sweeper.shutdownNow();
        }
        recorder.shutdown();
        try {
            recorder.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sessions.closeAll();
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    /** The identity handoff between the gate and the transport's context extractor. */
    private static final class Gate {

        private Gate() {
        }

        static McpTransportContext context(HttpServletRequest request) {
            if (request == null || !(request.getAttribute(AGENT_ATTRIBUTE) instanceof AgentIdentity agent)) {
                return McpTransportContext.EMPTY;
            }
            Map<String, Object> values = new HashMap<>(8);
            values.put(AgentIdentity.CONTEXT_KEY, agent);
            if (request.getAttribute(PREADMITTED_ATTRIBUTE) instanceof Preadmitted pre) {
                values.put(Preadmitted.CONTEXT_KEY, pre);
            }
            values.put(McpTelemetryNames.CONTEXT_NETWORK_TRANSPORT, "tcp");
            String address = request.getRemoteAddr();
            if (address != null) {
                values.put(McpTelemetryNames.CONTEXT_CLIENT_ADDRESS, address);
            }
            return McpTransportContext.create(values);
        }
    }

    /** The SDK's header view of a servlet request. */
    private static final class Headers implements HeaderAccessor {

        private final HttpServletRequest request;

        Headers(HttpServletRequest request) {
            this.request = request;
        }

        @Override
        public List<String> getHeader(String name) {
            return Collections.list(request.getHeaders(name));
        }

        @Override
        public List<String> getHeaderNames() {
            return Collections.list(request.getHeaderNames());
        }
    }

    /** Builds a {@link McpGate}. */
    public static final class Builder {

        private final McpGuard guard;
        private final HttpAuthenticator authenticator;
        private ServerHttpHeaderValidator headerValidator = ServerHttpHeaderValidator.NOOP;
        private Mode mode = Mode.STREAMABLE;
        private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
        private int sessionsPerAgent = DEFAULT_SESSIONS_PER_AGENT;
        private Duration sessionIdle = DEFAULT_SESSION_IDLE;
        private Clock clock = Clocks.monotonic();
        private McpJsonMapper mapper;
        private boolean sweepSessions = true;
        private Duration waitingPing = DEFAULT_WAITING_PING;
        private Duration waitingProbe = DEFAULT_WAITING_PROBE;
        private Duration bodyReadTimeout = DEFAULT_BODY_READ_TIMEOUT;
        private int slowBodiesPerAgent = DEFAULT_SLOW_BODIES_PER_AGENT;

        private Builder(McpGuard guard, HttpAuthenticator authenticator) {
            this.guard = Objects.requireNonNull(guard, "guard");
            this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
        }

        /**
         * Checks headers before authentication, e.g. the SDK's {@code DefaultServerTransportSecurityValidator} with
         * allowed hosts and origins (DNS-rebinding protection). Its refusals are answered 403 or 421.
         *
         * @param validator the validator
         * @return this builder
         */
        public Builder headerValidator(ServerHttpHeaderValidator validator) {
            this.headerValidator = Objects.requireNonNull(validator, "validator");
            return this;
        }

        /**
         * Sets whether the transport behind is Streamable HTTP with sessions (default) or stateless.
         *
         * @param mode the mode
         * @return this builder
         */
        public Builder mode(Mode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * Sets the largest request body accepted from an authenticated caller; larger ones get 413 before or while
         * being read. Default {@value #DEFAULT_MAX_BODY_BYTES} bytes.
         *
         * @param bytes 1 KiB to 256 MiB
         * @return this builder
         */
        public Builder maxBodyBytes(int bytes) {
            if (bytes < 1024 || bytes > 256 * 1024 * 1024) {
                throw new IllegalArgumentException("maxBodyBytes must be between 1 KiB and 256 MiB, got " + bytes);
            }
            this.maxBodyBytes = bytes;
            return this;
        }

        /**
         * Sets how many sessions one agent may hold open at once; a further {@code initialize} gets 429. Default
         * {@value #DEFAULT_SESSIONS_PER_AGENT}.
         *
         * @param max at least 1
         * @return this builder
         */
        public Builder sessionsPerAgent(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("sessionsPerAgent must be at least 1, got " + max);
            }
            this.sessionsPerAgent = max;
            return this;
        }

        /**
         * Sets how long a session may go without a request (and without an open stream) before it expires.
         * Default {@link McpGate#DEFAULT_SESSION_IDLE}.
         *
         * @param idle at least 1 second
         * @return this builder
         */
        public Builder sessionIdleTimeout(Duration idle) {
            Objects.requireNonNull(idle, "idle");
            if (idle.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("sessionIdleTimeout must be at least 1 second, got " + idle);
            }
            this.sessionIdle = idle;
            return this;
        }

        /**
         * Sets the clock of session expiry (tests); with it, the background sweep is off and
         * {@link McpGate#sweepSessions()} expires sessions.
         *
         * @param clock the clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            this.sweepSessions = false;
            return this;
        }

        /**
         * Sets the JSON mapper the transport uses (the gate must parse and answer as the transport does). Default:
         * the SDK's default mapper.
         *
         * @param mapper the mapper
         * @return this builder
         */
        public Builder jsonMapper(McpJsonMapper mapper) {
            this.mapper = Objects.requireNonNull(mapper, "mapper");
            return this;
        }

        /**
         * Sets how often a call waiting for approval in the gate writes to its stream, to notice a client that went
         * away. Default {@link McpGate#DEFAULT_WAITING_PING}.
         *
         * @param interval 10 ms to 5 minutes
         * @return this builder
         */
        public Builder waitingPing(Duration interval) {
            Objects.requireNonNull(interval, "interval");
            if (interval.compareTo(Duration.ofMillis(10)) < 0 || interval.compareTo(Duration.ofMinutes(5)) > 0) {
                throw new IllegalArgumentException("waitingPing must be between 10 ms and 5 minutes, got " + interval);
            }
            this.waitingPing = interval;
            return this;
        }

        /**
         * Sets how long the gate waits between the two writes that prove a held call's client is still there before
         * an approved call runs. Default {@link McpGate#DEFAULT_WAITING_PROBE}; make it longer than the round trip
         * to your clients.
         *
         * @param delay 1 ms to 10 seconds
         * @return this builder
         */
        public Builder waitingProbe(Duration delay) {
            Objects.requireNonNull(delay, "delay");
            if (delay.compareTo(Duration.ofMillis(1)) < 0 || delay.compareTo(Duration.ofSeconds(10)) > 0) {
                throw new IllegalArgumentException("waitingProbe must be between 1 ms and 10 seconds, got " + delay);
            }
            this.waitingProbe = delay;
            return this;
        }

        /**
         * Sets how long an authenticated request body may take to arrive; a slower one is refused with 408 and its
         * connection closed. Bodies still arriving are read without a thread. Default
         * {@link McpGate#DEFAULT_BODY_READ_TIMEOUT}.
         *
         * @param timeout 100 ms to 10 minutes
         * @return this builder
         */
        public Builder bodyReadTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.compareTo(Duration.ofMillis(100)) < 0 || timeout.compareTo(Duration.ofMinutes(10)) > 0) {
                throw new IllegalArgumentException("bodyReadTimeout must be between 100 ms and 10 minutes, got "
                        + timeout);
            }
            this.bodyReadTimeout = timeout;
            return this;
        }

        /**
         * Sets how many request bodies one agent may have arriving at once (bodies that were not complete when their
         * headers were); more are refused with 429. Default {@value McpGate#DEFAULT_SLOW_BODIES_PER_AGENT}.
         *
         * @param max 1 to 10,000
         * @return this builder
         */
        public Builder slowBodiesPerAgent(int max) {
            if (max < 1 || max > 10_000) {
                throw new IllegalArgumentException("slowBodiesPerAgent must be between 1 and 10000, got " + max);
            }
            this.slowBodiesPerAgent = max;
            return this;
        }

        /**
         * Builds the gate.
         *
         * @return the gate
         */
        public McpGate build() {
            return new McpGate(this);
        }
    }
}
