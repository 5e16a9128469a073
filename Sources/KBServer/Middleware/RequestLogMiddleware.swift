import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Logs one line per request with its request id (also sent back as `X-Request-Id`), and records
/// the request in ``ServerMetrics`` by route, method and status. Headers are never logged (they
/// carry API keys), nor query strings.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = KBRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var response = try await next(request, context)
        let elapsed = ContinuousClock.now - started
        let route = context.endpointPath ?? "unmatched"
        metrics.recordRequest(route: route, method: request.method.rawValue, status: Int(response.status.code),
                              duration: elapsed)
        response.headers[.requestID] = context.id
        context.logger.info("request", metadata: [
            "method": .string(request.method.rawValue),
            "path": .string(request.uri.path),
            "route": .string(route),
            "status": .stringConvertible(response.status.code),
            "ms": .string(String(format: "%.1f", elapsed.seconds * 1000)),
        ])
        return response
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
}

extension Duration {
    /// The duration in seconds as a floating-point number.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
