import Foundation
import HTTPTypes
import Hummingbird

/// Who may call a route. Every `/v1/` route is added to the router group of its access level, so
/// the decision follows the route the router matched, never the text of the path.
enum RouteAccess: Sendable {
    /// Reads (search, documents, answers): open unless ``ServerConfiguration/readsRequireKey`` is set.
    case read
    /// Writes (uploads, deletes): always need a key unless ``ServerConfiguration/anonymousWrites`` is set.
    case write
}

/// Checks API keys for the routes of one access level (see ``RouteAccess``). The operations
/// endpoints (`/healthz`, `/readyz`, `/metrics`) sit outside these groups and are open. Keys come as
/// `Authorization: Bearer KEY` (what OpenAI clients send) or `X-API-Key: KEY`.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = KBRequestContext
    let access: RouteAccess
    let keys: APIKeys
    let readsRequireKey: Bool
    let anonymousWrites: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let required = switch access {
        case .read: readsRequireKey
        case .write: !anonymousWrites
        }
        guard required else { return try await next(request, context) }
        if keys.isEmpty {
            throw APIError(.forbidden, "writes_disabled",
                           "this server has no API keys configured, so it accepts no writes; start it with "
                           + "--api-keys-file FILE or KB_API_KEYS")
        }
        guard let presented = Self.presentedKey(request.headers) else {
            throw APIError(.unauthorized, "missing_api_key",
                           "this endpoint needs an API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
                           headers: [.wwwAuthenticate: "Bearer"])
        }
        guard keys.accepts(presented) else {
            throw APIError(.unauthorized, "invalid_api_key", "the API key is not valid",
                           headers: [.wwwAuthenticate: "Bearer"])
        }
        return try await next(request, context)
    }

    static func presentedKey(_ headers: HTTPFields) -> String? {
        if let authorization = headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return headers[.apiKey]
    }
}

extension HTTPField.Name {
    static let apiKey = HTTPField.Name("X-API-Key")!
}
