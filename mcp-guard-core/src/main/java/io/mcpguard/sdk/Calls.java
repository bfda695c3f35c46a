package io.mcpguard.sdk;

import io.mcpguard.pipeline.Invocation;
import io.mcpguard.pipeline.Pipeline;
import io.mcpguard.pipeline.Start;
import io.mcpguard.pipeline.Ticket;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;

/**
 * The two executors of the pipeline: they run the admission steps, then the handler, and report its outcome to the
 * ticket. They differ only in how they run and wait, as the SDK's sync server is a facade over its async core.
 */
final class Calls {

    private Calls() {
    }

    /**
     * Runs a synchronous handler behind the pipeline.
     *
     * @param pipeline the pipeline
     * @param call the call
     * @param handler the handler
     * @param answers how refusals and failures are answered
     * @param <R> the result type
     * @return the handler's result, or a refusal or sanitized failure
     */
    static <R> R sync(Pipeline pipeline, Invocation call, Supplier<R> handler, Answers<R> answers) {
        Start start = pipeline.start(call);
        if (start instanceof Start.Waiting waiting) {
            start = await(waiting);
        }
        if (start instanceof Start.Refused refused) {
            return answers.refused(call, refused);
        }
        Ticket ticket = ((Start.Ready) start).ticket();
        Duration timeout = ticket.timeout();
        if (timeout != null) {
            return syncWithTimeout(pipeline, call, handler, answers, ticket, timeout);
        }
        R result;
        try (Scope scope = ticket.makeCurrent()) {
            result = handler.get();
        } catch (Throwable failure) {
            ticket.release();
            return failedSync(call, answers, ticket, failure);
        }
        ticket.release();
        if (result == null) {
            return answers.failed(call, ticket.failed(null));
        }
        ticket.succeeded(answers.isError(result), result);
        return result;
    }

    private static Start await(Start.Waiting waiting) {
        try {
            return waiting.next().join();
        } catch (CancellationException | CompletionException e) {
            waiting.abandon().run();
            throw e;
        }
    }

    private static <R> R failedSync(Invocation call, Answers<R> answers, Ticket ticket, Throwable failure) {
        if (answers.deliberate(failure)) {
            ticket.succeeded(true, null);
            throw (RuntimeException) failure;
        }
        return answers.failed(call, ticket.failed(failure));
    }

    private static <R> R syncWithTimeout(Pipeline pipeline, Invocation call, Supplier<R> handler, Answers<R> answers,
            Ticket ticket, Duration timeout) {
        Future<R> future;
        try {
            // The slots are freed when the handler really ends, not at the timeout: a handler that ignores
            // interruption still counts against concurrency limits while it runs.
            future = pipeline.executor().submit(ticket.context().wrap(() -> {
                try {
                    return handler.get();
                } finally {
                    ticket.release();
                }
            }));
        } catch (RejectedExecutionException e) {
            ticket.release();
            return answers.failed(call, ticket.failed(e));
        }
        try {
            R result = future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (result == null) {
                return answers.failed(call, ticket.failed(null));
            }
            ticket.succeeded(answers.isError(result), result);
            return result;
        } catch (TimeoutException e) {
            future.cancel(true);
            return answers.visible(ticket.timedOut(), null);
        } catch (ExecutionException e) {
            return failedSync(call, answers, ticket, e.getCause());
        } catch (InterruptedException e) {
            future.cancel(true);
            ticket.cancelled();
            Thread.currentThread().interrupt();
            return answers.failed(call, ticket.failed(e));
        }
    }

    /**
     * Runs an asynchronous handler behind the pipeline. Nothing happens until subscription.
     *
     * @param pipeline the pipeline
     * @param call the call
     * @param handler the handler
     * @param answers how refusals and failures are answered
     * @param <R> the result type
     * @return the handler's result, a refusal, a sanitized failure, or an error
     */
    static <R> Mono<R> async(Pipeline pipeline, Invocation call, Supplier<Mono<R>> handler, Answers<R> answers) {
        return Mono.defer(() -> {
            Start start = pipeline.start(call);
            if (start instanceof Start.Waiting waiting) {
                return Mono.fromFuture(waiting.next(), false)
                        .flatMap(next -> run(next, call, handler, answers))
                        .doOnCancel(waiting.abandon());
            }
            return run(start, call, handler, answers);
        });
    }

    private static <R> Mono<R> run(Start start, Invocation call, Supplier<Mono<R>> handler, Answers<R> answers) {
        if (start instanceof Start.Refused refused) {
            return answer(() -> answers.refused(call, refused));
        }
        Ticket ticket = ((Start.Ready) start).ticket();
        Mono<R> guarded = Mono.defer(() -> {
            try (Scope scope = ticket.makeCurrent()) {
                return handler.get();
            }
        })
                .map(result -> {
                    ticket.succeeded(answers.isError(result), result);
                    return result;
                })
                .switchIfEmpty(Mono.defer(() -> answer(() -> answers.failed(call, ticket.failed(null)))))
                .onErrorResume(failure -> {
                    if (answers.deliberate(failure)) {
                        ticket.succeeded(true, null);
                        return Mono.error(failure);
                    }
                    return answer(() -> answers.failed(call, ticket.failed(failure)));
                });
        Duration timeout = ticket.timeout();
        if (timeout != null) {
            guarded = guarded.timeout(timeout, Mono.defer(() -> answer(() -> answers.visible(ticket.timedOut(),
                    null))));
        }
        // The handler is done (or cancelled) once an answer exists: free the slots before the answer reaches the
        // agent, which may call again at once.
        return guarded.doOnNext(result -> ticket.release()).doFinally(signal -> {
            if (signal == SignalType.CANCEL) {
                ticket.cancelled();
            }
            ticket.release();
        });
    }

    /** Turns an answer that may be thrown (an error) into a signal. */
    private static <R> Mono<R> answer(Supplier<R> answer) {
        try {
            return Mono.just(answer.get());
        } catch (RuntimeException e) {
            return Mono.error(e);
        }
    }
}
