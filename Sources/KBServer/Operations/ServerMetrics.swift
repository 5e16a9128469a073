import Foundation
import Metrics
import Prometheus
import KBLLM
import KBSupport

/// The server's metrics, recorded through swift-metrics into a Prometheus registry owned by this
/// server (not the process-wide `MetricsSystem`, so several servers, e.g. in tests, keep separate
/// counts) and exposed at `GET /metrics` in the Prometheus text format.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// The engine counters at the last scrape (counters grow by the difference).
    private let lastEngine = Locked(BatchStatistics())

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        let fast: [Duration] = [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                                .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
                                .seconds(5), .seconds(10), .seconds(30)]
        factory.defaultDurationHistogramBuckets = fast
        factory.valueHistogramBuckets["kb_generation_tokens_per_second"] = [1, 2, 5, 10, 20, 50, 100, 200, 500]
        self.factory = factory
        // Present from the start, so a scrape before any traffic shows every family.
        setIndexSize(vectors: 0, documents: 0, chunks: 0)
        setQueue(waiting: 0, active: 0)
        for reason in ["client", "shutdown"] {
            Counter(label: "kb_generations_cancelled_total", dimensions: [("reason", reason)], factory: factory).increment(by: 0)
        }
        for name in ["kb_generated_tokens_total", "kb_prompt_tokens_total", "kb_prefix_cache_hit_tokens_total",
                     "kb_generations_rejected_total"] {
            Counter(label: name, dimensions: [], factory: factory).increment(by: 0)
        }
    }

    /// One answered request, by matched route (e.g. `/v1/documents/{id}`), method and status.
    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let labels = [("route", route), ("method", method), ("status", String(status))]
        Counter(label: "kb_http_requests_total", dimensions: labels, factory: factory).increment()
        Timer(label: "kb_http_request_duration_seconds", dimensions: labels, factory: factory)
            .recordNanoseconds(duration.nanoseconds)
    }

    /// Time spent inside the search engine, by effective mode.
    func recordSearch(mode: String, duration: Duration) {
        Timer(label: "kb_search_duration_seconds", dimensions: [("mode", mode)], factory: factory)
            .recordNanoseconds(duration.nanoseconds)
    }

    func setIndexSize(vectors: Int, documents: Int, chunks: Int) {
        Gauge(label: "kb_index_vectors", dimensions: [], factory: factory).record(vectors)
        Gauge(label: "kb_documents", dimensions: [], factory: factory).record(documents)
        Gauge(label: "kb_chunks", dimensions: [], factory: factory).record(chunks)
    }

    func setQueue(waiting: Int, active: Int) {
        Gauge(label: "kb_generation_queue_depth", dimensions: [], factory: factory).record(waiting)
        Gauge(label: "kb_generations_active", dimensions: [], factory: factory).record(active)
    }

    /// A generation that ended early: `reason` is `client` (the client hung up or the request timed
    /// out) or `shutdown` (cancelled, or refused while waiting, by the server's shutdown).
    func recordCancelledGeneration(reason: String) {
        Counter(label: "kb_generations_cancelled_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    func recordRejectedGeneration() {
        Counter(label: "kb_generations_rejected_total", dimensions: [], factory: factory).increment()
    }

    /// One finished generation: time to first token (from the request's arrival), decode speed and token counts.
    func recordGeneration(timeToFirstToken: Duration?, decodeDuration: Duration, usage: GenerationUsage) {
        if let timeToFirstToken {
            Timer(label: "kb_generation_time_to_first_token_seconds", dimensions: [], factory: factory)
                .recordNanoseconds(timeToFirstToken.nanoseconds)
        }
        if usage.completionTokens > 1, decodeDuration > .zero {
            Recorder(label: "kb_generation_tokens_per_second", dimensions: [], factory: factory)
                .record(Double(usage.completionTokens - 1) / decodeDuration.seconds)
        }
        Counter(label: "kb_generated_tokens_total", dimensions: [], factory: factory).increment(by: usage.completionTokens)
        Counter(label: "kb_prompt_tokens_total", dimensions: [], factory: factory).increment(by: usage.promptTokens)
        Counter(label: "kb_prefix_cache_hit_tokens_total", dimensions: [], factory: factory)
            .increment(by: usage.cachedPromptTokens)
    }

    /// The batching engine and its KV pool, at a scrape: running and waiting sequences, blocks by
    /// state, and counters of passes, tokens per pass, pass seconds, preemptions and prefix hits.
    func recordEngine(_ batch: BatchStatistics, pool: KVPoolStatistics) {
        Gauge(label: "kb_engine_running_sequences", dimensions: [], factory: factory).record(batch.running)
        Gauge(label: "kb_engine_waiting_sequences", dimensions: [], factory: factory).record(batch.waiting)
        for (state, blocks) in [("used", pool.usedBlocks), ("cached", pool.cachedBlocks), ("free", pool.freeBlocks)] {
            Gauge(label: "kb_kv_blocks", dimensions: [("state", state)], factory: factory).record(blocks)
        }
        Gauge(label: "kb_kv_block_bytes", dimensions: [], factory: factory).record(pool.blockBytes)
        Gauge(label: "kb_engine_last_step_tokens", dimensions: [], factory: factory).record(batch.lastStepTokens)
        Gauge(label: "kb_engine_last_step_seconds", dimensions: [], factory: factory).record(batch.lastStepSeconds)
        let previous = lastEngine.withLock { last in
            defer { last = batch }
            return last
        }
        func grow(_ label: String, _ now: Int, _ before: Int) {
            Counter(label: label, dimensions: [], factory: factory).increment(by: max(0, now - before))
        }
        grow("kb_engine_steps_total", batch.steps, previous.steps)
        grow("kb_engine_step_tokens_total", batch.stepTokens, previous.stepTokens)
        grow("kb_engine_preemptions_total", batch.preemptions, previous.preemptions)
        grow("kb_engine_prefix_hit_tokens_total", batch.prefixHitTokens, previous.prefixHitTokens)
        FloatingPointCounter(label: "kb_engine_step_seconds_total", dimensions: [], factory: factory)
            .increment(by: max(0, batch.stepSeconds - previous.stepSeconds))
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String { registry.emitToString() }
}
