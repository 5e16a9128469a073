import Foundation
import HTTPTypes
import Hummingbird
import Logging
import KBSupport

/// Logs one line per request with its request id (also sent back as `X-Request-Id`), and records
/// the request in ``ServerMetrics`` by route, method and status. Headers are never logged (they
/// carry API keys), nor query strings.
///
/// The latency is taken when the response body has been written, not when the handler returned:
/// a streamed answer's handler returns at once, and its time is the stream's. A body that is never
/// written (the client left before the head) is recorded when the response is dropped.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = KBRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var response = try await next(request, context)
        let route = context.endpointPath ?? "unmatched"
        let (method, path, status) = (request.method.rawValue, request.uri.path, response.status.code)
        let (metrics, logger) = (self.metrics, context.logger)
        let record = RecordOnce {
            let elapsed = ContinuousClock.now - started
            metrics.recordRequest(route: route, method: method, status: Int(status), duration: elapsed)
            logger.info("request", metadata: [
                "method": .string(method),
                "path": .string(path),
                "route": .string(route),
                "status": .stringConvertible(status),
                "ms": .string(String(format: "%.1f", elapsed.seconds * 1000)),
            ])
        }
        response.headers[.requestID] = context.id
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            defer { record.run() }
            try await body.write(writer)
        }
        return response
    }
}

/// Runs an action once: when asked, or when dropped without having been asked.
final class RecordOnce: Sendable {
    private let action: @Sendable () -> Void
    private let done = Locked(false)

    init(_ action: @escaping @Sendable () -> Void) { self.action = action }

    func run() {
        let first = done.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { action() }
    }

    deinit { run() }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
}
