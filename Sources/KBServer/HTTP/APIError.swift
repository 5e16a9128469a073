import Foundation
import HTTPTypes
import Hummingbird

/// An error answered to the client as `{"error": {"code", "message"}}` with its HTTP status.
///
/// Every failure the server reports goes through this type: client mistakes get a 4xx status and a
/// message naming the input and the reason; only the server's own faults are 5xx.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// A stable, machine-readable name such as `invalid_json` or `top_k_out_of_range`.
    public var code: String
    public var message: String
    /// Extra response headers (`Retry-After`, `Allow`, `WWW-Authenticate`).
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// The JSON body of the response.
    public var body: ByteBuffer {
        ByteBuffer(bytes: JSONBody.encodeBytes(ErrorBody(error: .init(code: code, message: message))))
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: body))
    }

    struct ErrorBody: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }

        var error: Detail
    }
}

extension APIError {
    static func badRequest(_ code: String, _ message: String) -> APIError { APIError(.badRequest, code, message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }

    static func internalError(_ message: String) -> APIError {
        APIError(.internalServerError, "internal_error", message)
    }
}
