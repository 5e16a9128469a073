import Foundation
import Hummingbird

/// Refuses request paths that are not in canonical form before anything else looks at them: empty
/// segments (`//v1/documents`, `/v1//documents`), `.` and `..` segments, and segments that hide a
/// `/` or a dot segment in percent-encoding. The router would otherwise match such a path to a
/// route by dropping or decoding the odd segments, and any check made on the path's text could
/// disagree with the route that runs. A single trailing slash is not canonical either.
struct CanonicalPathMiddleware: RouterMiddleware {
    typealias Context = KBRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if let reason = Self.problem(in: path) {
            throw APIError.badRequest("non_canonical_path",
                                      "the path \"\(path.prefix(200))\" is not canonical (\(reason)); send it without them")
        }
        return try await next(request, context)
    }

    /// Why `path` is not canonical, or nil when it is.
    static func problem(in path: String) -> String? {
        guard path.hasPrefix("/") else { return "it does not start with /" }
        if path == "/" { return nil }
        for segment in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty { return "empty path segments" }
            let decoded = segment.removingPercentEncoding ?? String(segment)
            if decoded == "." || decoded == ".." { return "'.' or '..' segments" }
            if decoded.contains("/") || decoded.contains("\\") { return "encoded path separators" }
        }
        return nil
    }
}
