import Foundation
import Hummingbird

extension APIServer {
    struct Readiness: Encodable, Sendable {
        var status: String
        var checks: [String: String]
    }

    /// `GET /healthz` (the process answers), `GET /readyz` (database — readable, not corrupt, disk not
    /// full —, index and model),
    /// `GET /metrics` (Prometheus text format).
    func addOperationsRoutes(_ router: Router<KBRequestContext>) {
        router.get("/healthz") { _, _ in
            JSONBody.response(["status": "ok"])
        }
        router.get("/readyz") { [self] _, _ in
            var checks: [String: String] = [:]
            var ready = true
            // A corruption or full-disk error met by any request since the start (see StoreHealth).
            let problems = knowledge.storeProblems
            if !problems.isEmpty {
                checks["database"] = problems.map { problem in
                    switch problem {
                    case .corrupt(let reason): "corrupt (\(reason))"
                    case .full(let reason): "disk full (\(reason))"
                    }
                }.joined(separator: "; ")
                ready = false
            } else if await knowledge.databaseIsReadable() {
                checks["database"] = "ok"
            } else {
                checks["database"] = "not readable"
                ready = false
            }
            if let index = knowledge.engine.index {
                checks["index"] = "loaded (\(index.count) vectors)"
            } else {
                checks["index"] = "no vectors (lexical search only)"
            }
            if configuration.model != nil || answers.generator != nil {
                if let generator = answers.generator {
                    checks["model"] = "loaded (\(generator.modelID))"
                } else {
                    checks["model"] = "not loaded"
                    ready = false
                }
            } else {
                checks["model"] = "not configured"
            }
            return JSONBody.response(Readiness(status: ready ? "ready" : "not ready", checks: checks),
                                     status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { [self] _, _ in
            if let statistics = try? await knowledge.statistics() {
                metrics.setIndexSize(vectors: knowledge.engine.index?.count ?? 0, documents: statistics.documents,
                                     chunks: statistics.chunks)
            }
            if let engine = answers.generator?.engineStatistics {
                metrics.recordEngine(engine.batch, pool: engine.pool)
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
    }
}
