import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `kb serve`: the HTTP service over one knowledge base. Builds the router (routes, middleware) and
/// the Hummingbird application; ``run()`` serves until SIGINT/SIGTERM and then shuts down
/// gracefully (swift-service-lifecycle): running and waiting generations are cancelled at once
/// (their clients get a `shutting_down` error), other in-flight requests finish, then it returns.
public final class KnowledgeServer: Sendable {
    public let configuration: ServerConfiguration
    public let knowledge: KnowledgeService
    public let metrics: ServerMetrics
    let answers: AnswerService
    let logger: Logger
    let keys: APIKeys

    /// - Parameters:
    ///   - generator: the language model for answers; nil serves search and documents only.
    public init(configuration: ServerConfiguration, knowledge: KnowledgeService, generator: (any AnswerGenerator)?,
                logger: Logger, metrics: ServerMetrics = ServerMetrics()) {
        self.configuration = configuration
        self.knowledge = knowledge
        self.metrics = metrics
        self.logger = logger
        self.keys = APIKeys(configuration.apiKeys)
        self.answers = AnswerService(knowledge: knowledge, generator: generator, metrics: metrics,
                                     configuration: configuration)
    }

    /// Every route the server answers (for 405 answers and the contract test).
    var routeTable: RouteTable {
        var table = RouteTable()
        table.add(.get, "/healthz")
        table.add(.get, "/readyz")
        table.add(.get, "/metrics")
        table.add(.post, "/v1/search")
        table.add(.post, "/v1/documents")
        table.add(.get, "/v1/documents/:id")
        table.add(.delete, "/v1/documents/:id")
        table.add(.post, "/v1/ask")
        table.add(.post, "/v1/chat/completions")
        table.add(.get, "/v1/models")
        return table
    }

    /// The router with every route and middleware. Paths are checked for canonical form first;
    /// then each `/v1/` route sits in the group of its ``RouteAccess``, whose ``AuthMiddleware``
    /// decides by the route matched (the operations routes are open).
    func makeRouter() -> Router<KBRequestContext> {
        let router = Router(context: KBRequestContext.self)
        router.add(middleware: RequestLogMiddleware(metrics: metrics))
        router.add(middleware: ErrorMiddleware(routes: routeTable))
        router.add(middleware: CanonicalPathMiddleware())
        addOperationsRoutes(router)
        let reads = router.group().add(middleware: authorization(.read))
        addSearchRoutes(reads)
        addDocumentReadRoutes(reads)
        addAnswerRoutes(reads)
        addOpenAIRoutes(reads)
        let writes = router.group().add(middleware: authorization(.write))
        addDocumentWriteRoutes(writes)
        return router
    }

    private func authorization(_ access: RouteAccess) -> AuthMiddleware {
        AuthMiddleware(access: access, keys: keys, readsRequireKey: configuration.readsRequireKey,
                       anonymousWrites: configuration.anonymousWrites)
    }

    /// The Hummingbird application as a service: run it in a `ServiceGroup`; its graceful shutdown
    /// cancels the generations first (``AnswerService/shutDown()``), then lets the HTTP server drain.
    /// - Parameter onServerRunning: told the bound port (useful with port 0).
    public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some Service {
        let application = Application(
            router: makeRouter(),
            server: .http1(configuration: .init(idleTimeout: .milliseconds(Int64(configuration.idleTimeout * 1000)))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        return ShutdownCancelsGenerations(application: application, answers: answers, logger: logger)
    }

    /// Serves until SIGINT or SIGTERM.
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let group = ServiceGroup(configuration: .init(services: [makeApplication(onServerRunning: onServerRunning)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    // MARK: - Helpers for the routes

    /// Reads a JSON body within the body size limit and the body timeout (408 when the client is too slow).
    func readBody(_ request: Request, limit: Int? = nil) async throws -> ByteBuffer {
        try await readBody(request.body, headers: request.headers, limit: limit)
    }

    private func readBody(_ body: RequestBody, headers: HTTPFields, limit: Int? = nil) async throws -> ByteBuffer {
        let limit = limit ?? configuration.maxBodyBytes
        return try await withBodyDeadline { try await JSONBody.collect(body, headers: headers, limit: limit) }
    }

    /// Runs `work`, which reads the request body, under the body timeout (408 when the client is too slow).
    func withBodyDeadline<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let seconds = configuration.bodyTimeout
        return try await withDeadline(seconds, timeoutError: APIError(
            .requestTimeout, "request_timeout", "the request body did not arrive within \(seconds) s"), work)
    }

    /// Reads the JSON body of an answer request and runs `respond` on it while watching the
    /// connection: when the client closes it — while the body arrives, while the request waits for
    /// a generation slot, or while a non-streamed answer is generated — `respond` is cancelled, and
    /// the cancellation reaches the queue and the engine. The body is read inside the watch
    /// (Hummingbird's inbound-close watch must consume the body itself). Because the watch reads
    /// the connection, the connection is closed after the response: it says `Connection: close`.
    /// A streamed answer's body runs after `respond` returns; it notices a departed client when a
    /// write fails.
    func whileConnected(_ request: Request,
                        _ respond: @escaping @Sendable (ByteBuffer) async throws -> Response) async throws -> Response {
        let headers = request.headers
        var response = try await request.body.consumeWithCancellationOnInboundClose { [self] body in
            try await respond(try await readBody(body, headers: headers))
        }
        response.headers[.connection] = "close"
        return response
    }

    /// Runs a handler under the request timeout (503 when it takes longer).
    func timed(_ work: @escaping @Sendable () async throws -> Response) async throws -> Response {
        let seconds = configuration.requestTimeout
        return try await withDeadline(seconds, timeoutError: APIError(
            .serviceUnavailable, "timeout", "the request took longer than \(seconds) s", headers: [.retryAfter: "1"]),
            work)
    }
}
