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
public final class APIServer: Sendable {
    public let configuration: ServerConfiguration
    public let knowledge: KnowledgeBase
    public let metrics: ServerMetrics
    let answers: AnswerService
    let logger: Logger
    let keys: APIKeys
    /// Body limits and timeouts, as every route applies them.
    let deadlines: RequestDeadlines

    /// - Parameters:
    ///   - generator: the language model for answers; nil serves search and documents only.
    public init(configuration: ServerConfiguration, knowledge: KnowledgeBase, generator: (any AnswerGenerator)?,
                logger: Logger, metrics: ServerMetrics = ServerMetrics()) {
        self.configuration = configuration
        self.knowledge = knowledge
        self.metrics = metrics
        self.logger = logger
        self.keys = APIKeys(configuration.apiKeys)
        self.deadlines = RequestDeadlines(configuration)
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
        AnswerController(answers: answers, deadlines: deadlines).addRoutes(to: reads)
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
}
