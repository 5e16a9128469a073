import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// How long a request may take and how large its body may be, and the ways routes apply that:
/// reading a body (413 past the size limit, 408 past the body timeout), running work under the
/// request timeout (503), and running an answer while its client is still connected.
struct RequestDeadlines: Sendable {
    /// Seconds the client has to send the whole body.
    var bodyTimeout: Double
    /// Seconds a request's work may take (streamed answers excepted).
    var requestTimeout: Double
    /// Bytes of a JSON body (uploads have their own limit).
    var maxBodyBytes: Int

    init(_ configuration: ServerConfiguration) {
        bodyTimeout = configuration.bodyTimeout
        requestTimeout = configuration.requestTimeout
        maxBodyBytes = configuration.maxBodyBytes
    }

    /// Reads a JSON body within the body size limit and the body timeout.
    func readBody(_ request: Request) async throws -> ByteBuffer {
        try await readBody(request.body, headers: request.headers)
    }

    private func readBody(_ body: RequestBody, headers: HTTPFields) async throws -> ByteBuffer {
        let limit = maxBodyBytes
        return try await withBodyDeadline { try await JSONBody.collect(body, headers: headers, limit: limit) }
    }

    /// Runs `work`, which reads the request body, under the body timeout (408 when the client is too slow).
    func withBodyDeadline<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let seconds = bodyTimeout
        return try await withDeadline(seconds, timeoutError: APIError(
            .requestTimeout, "request_timeout", "the request body did not arrive within \(seconds) s"), work)
    }

    /// Runs a handler under the request timeout (503 when it takes longer; the work is cancelled).
    func timed(_ work: @escaping @Sendable () async throws -> Response) async throws -> Response {
        let seconds = requestTimeout
        return try await withDeadline(seconds, timeoutError: APIError(
            .serviceUnavailable, "timeout", "the request took longer than \(seconds) s", headers: [.retryAfter: "1"]),
            work)
    }

    /// Reads the JSON body of an answer request and runs `respond` on it while watching the
    /// connection: when the client closes it — while the body arrives, while the request waits for
    /// a generation slot, or while a non-streamed answer is generated — `respond` is cancelled, and
    /// the cancellation reaches the queue and the engine. The body is read inside the watch
    /// (Hummingbird's inbound-close watch must consume the body itself: reading it first crashed
    /// the process when the client closed normally). Because the watch reads the connection, the
    /// connection is closed after the response: it says `Connection: close`. A streamed answer's
    /// body runs after `respond` returns; it notices a departed client when a write fails.
    func whileConnected(_ request: Request,
                        _ respond: @escaping @Sendable (ByteBuffer) async throws -> Response) async throws -> Response {
        let headers = request.headers
        var response = try await request.body.consumeWithCancellationOnInboundClose { body in
            try await respond(try await readBody(body, headers: headers))
        }
        response.headers[.connection] = "close"
        return response
    }
}
