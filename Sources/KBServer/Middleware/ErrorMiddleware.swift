import Foundation
import HTTPTypes
import Hummingbird
import KBStore
import Logging
import NIOCore

/// Turns every error into the JSON error shape: ``APIError``s as they are, the router's "not found"
/// into 404 or 405, Hummingbird's and NIO's errors into their statuses, the database's own failures
/// into 507 `insufficient_storage` (disk full) and 500 `database_corrupt`, and anything else into a
/// logged 500 that reveals nothing internal.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = KBRequestContext
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            return try translate(error, request).response(from: request, context: context)
        } catch is NIOTooManyBytesError {
            return try APIError(.contentTooLarge, "body_too_large", "the request body is too large")
                .response(from: request, context: context)
        } catch let error as DecodingError {
            return try JSONBody.describe(error).response(from: request, context: context)
        } catch let error as StoreError {
            return try storeFailure(error, context: context).response(from: request, context: context)
        } catch is CancellationError {
            return try APIError(.serviceUnavailable, "cancelled", "the request was cancelled (server shutting down)")
                .response(from: request, context: context)
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
            return try APIError.internalError("the server failed to handle the request; see its log for request id \(context.id)")
                .response(from: request, context: context)
        }
    }

    /// A full disk and a corrupt file are the operator's to fix; the client learns which, and that a
    /// failed write changed nothing. Other store errors are internal.
    private func storeFailure(_ error: StoreError, context: Context) -> APIError {
        context.logger.error("database failure", metadata: ["error": "\(error)"])
        switch error {
        case .full:
            return APIError(Self.insufficientStorage, "insufficient_storage",
                            "the disk or database of the knowledge base is full: the write was rolled back and "
                            + "nothing stored before it was lost; retry after the operator frees space")
        case .corrupt(_, let reason):
            return APIError(.internalServerError, "database_corrupt",
                            "the knowledge base's database file is corrupt (\(reason)); the operator must restore it")
        default:
            return APIError.internalError("the server failed to handle the request; see its log for request id \(context.id)")
        }
    }

    /// 507 Insufficient Storage (RFC 4918), which HTTPTypes does not name.
    static let insufficientStorage = HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")

    private func translate(_ error: HTTPError, _ request: Request) -> APIError {
        let path = request.uri.path
        if error.status == .notFound {
            let allowed = routes.methods(for: path)
            if !allowed.isEmpty, !allowed.contains(request.method) {
                return APIError(.methodNotAllowed, "method_not_allowed",
                                "\(request.method.rawValue) is not allowed on \(path); use \(allowed.map(\.rawValue).joined(separator: ", "))",
                                headers: [.allow: allowed.map(\.rawValue).joined(separator: ", ")])
            }
            if allowed.isEmpty {
                return APIError(.notFound, "unknown_route", "no such endpoint: \(request.method.rawValue) \(path)")
            }
        }
        let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
        return APIError(error.status, code.isEmpty ? "http_\(error.status.code)" : code,
                        error.body ?? error.status.reasonPhrase, headers: error.headers)
    }
}
