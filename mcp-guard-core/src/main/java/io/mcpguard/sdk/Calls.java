package io.mcpguard.sdk;

import io.mcpguard.pipeline.Call;
import io.mcpguard.pipeline.Pipeline;
import io.mcpguard.pipeline.Start;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;

/**
 * The two executors of the pipeline: they run the admission steps, then the handler, and report its outcome to the
 * call. They differ only in how they run and wait, as the SDK's sync server is a facade over its async core.
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
     * @param first its first argument (the exchange or transport context)
     * @param request its second argument (the request)
     * @param answers how refusals and failures are answered
     * @param <X> the handler's first argument type
     * @param <Q> the request type
     * @param <R> the result type
     * @return the handler's result, or a refusal or sanitized failure
     */
    static <X, Q, R> R sync(Pipeline pipeline, Call call, BiFunction<X, Q, R> handler, X first, Q request,
            Answers<R> answers) {
        Start start = pipeline.begin(call);
        if (start instanceof Start.Waiting waiting) {
            start = await(waiting);
        }
        if (start instanceof Start.Refused refused) {
            return answers.refused(call, refused);
        }
        call = (Call) start; // the gate's call when it admitted this one ahead of the SDK
        Duration timeout = call.timeout();
        if (timeout != null) {
            return syncWithTimeout(pipeline, call, () -> handler.apply(first, request), answers, timeout);
        }
        R result;
        try (Scope scope = call.makeCurrent()) {
            result = handler.apply(first, request);
        } catch (Throwable failure) {
            call.release();
            return failedSync(call, answers, failure);
        }
        call.release();
        if (result == null) {
            return answers.failed(call, call.failed(null));
        }
        call.succeeded(answers.isError(result), result);
        return result;
    }

    private static Start await(Start.Waiting waiting) {
        try {
            return waiting.next().join();
        } catch (CancellationException | CompletionException e) {
            waiting.abandon().accept("the caller stopped waiting");
            throw e;
        }
    }

    private static <R> R failedSync(Call call, Answers<R> answers, Throwable failure) {
        if (answers.deliberate(failure)) {
            call.succeeded(true, null);
            throw (RuntimeException) failure;
        }
        return answers.failed(call, call.failed(failure));
    }

    private static <R> R syncWithTimeout(Pipeline pipeline, Call call, Supplier<R> handler, Answers<R> answers,
            Duration timeout) {
        Future<R> future;
        try {
            // The slots are freed when the handler really ends, not at the timeout: a handler that ignores
            // interruption still counts against concurrency limits while it runs.
            future = pipeline.executor().submit(call.otelContext().wrap(() -> {
                try {
                    return handler.get();
                } finally {
                    call.release();
                }
            }));
        } catch (RejectedExecutionException e) {
            call.release();
            return answers.failed(call, call.failed(e));
        }
        try {
            R result = future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (result == null) {
                return answers.failed(call, call.failed(null));
            }
            call.succeeded(answers.isError(result), result);
            return result;
        } catch (TimeoutException e) {
            future.cancel(true);
            return answers.visible(call.timedOut(), null);
        } catch (ExecutionException e) {
            return failedSync(call, answers, e.getCause());
        } catch (InterruptedException e) {
            future.cancel(true);
            call.cancelled();
            Thread.currentThread().interrupt();
            return answers.failed(call, call.failed(e));
        }
    }

    /**
     * Runs an asynchronous handler behind the pipeline. Nothing happens until subscription.
     *
     * @param pipeline the pipeline
     * @param call the call
     * @param handler the handler
     * @param first its first argument (the exchange or transport context)
     * @param request its second argument (the request)
     * @param answers how refusals and failures are answered
     * @param <X> the handler's first argument type
     * @param <Q> the request type
     * @param <R> the result type
     * @return the handler's result, a refusal, a sanitized failure, or an error
     */
    static <X, Q, R> Mono<R> async(Pipeline pipeline, Call call, BiFunction<X, Q, Mono<R>> handler, X first,
            Q request, Answers<R> answers) {
        return Mono.defer(() -> {
            Start start = pipeline.begin(call);
            if (start instanceof Start.Waiting waiting) {
                return Mono.fromFuture(waiting.next(), false)
                        .flatMap(next -> run(next, call, handler, first, request, answers))
                        .doOnCancel(() -> waiting.abandon().accept("the caller cancelled the call"));
            }
            return run(start, call, handler, first, request, answers);
        });
    }

    private static <X, Q, R> Mono<R> run(Start start, Call call, BiFunction<X, Q, Mono<R>> handler, X first,
            Q request, Answers<R> answers) {
        if (start instanceof Start.Refused refused) {
            return answer(() -> answers.refused(call, refused));
        }
        return admitted((Call) start, handler, first, request, answers);
    }

    private static <X, Q, R> Mono<R> admitted(Call call, BiFunction<X, Q, Mono<R>> handler, X first, Q request,
            Answers<R> answers) {
        Mono<R> guarded = Mono.defer(() -> {
            try (Scope scope = call.makeCurrent()) {
                return handler.apply(first, request);
            }
        })
                .map(result -> {
                    call.succeeded(answers.isError(result), result);
                    return result;
                })
                .switchIfEmpty(Mono.defer(() -> answer(() -> answers.failed(call, call.failed(null)))))
                .onErrorResume(failure -> {
                    if (answers.deliberate(failure)) {
                        call.succeeded(true, null);
                        return Mono.error(failure);
                    }
                    return answer(() -> answers.failed(call, call.failed(failure)));
                });
        Duration timeout = call.timeout();
        if (timeout != null) {
            guarded = guarded.timeout(timeout, Mono.defer(() -> answer(() -> answers.visible(call.timedOut(),
                    null))));
        }
        // The handler is done (or cancelled) once an answer exists: free the slots before the answer reaches the
        // agent, which may call again at once.
        return guarded.doOnNext(result -> call.release()).doFinally(signal -> {
            if (signal == SignalType.CANCEL) {
                call.cancelled();
            }
            call.release();
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
