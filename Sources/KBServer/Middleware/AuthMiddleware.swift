import Foundation
import HTTPTypes
import Hummingbird

/// Checks API keys: always for writes (`POST`/`DELETE` under `/v1/documents`), for the
/// other `/v1/` endpoints only when ``ServerConfiguration/readsRequireKey`` is set. The operations
/// endpoints (`/healthz`, `/readyz`, `/metrics`) are open. Keys come as `Authorization: Bearer KEY`
/// (what OpenAI clients send) or `X-API-Key: KEY`.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = KBRequestContext
    let keys: APIKeys
    let readsRequireKey: Bool
    let anonymousWrites: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/v1/") else { return try await next(request, context) }
        let isWrite = path.hasPrefix("/v1/documents") && [.post, .delete].contains(request.method)
        let required = isWrite ? !anonymousWrites : readsRequireKey
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
