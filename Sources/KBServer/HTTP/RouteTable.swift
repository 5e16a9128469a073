import HTTPTypes

/// The routes the server answers, so an unmatched request can be told apart: a known path with
/// another method is `405 Method Not Allowed` (with `Allow`), anything else is `404 Not Found`.
struct RouteTable: Sendable {
    struct Route: Sendable {
        var method: HTTPRequest.Method
        /// Path segments; a segment starting with ":" matches any one segment.
        var segments: [Substring]
    }

    private(set) var routes: [Route] = []

    mutating func add(_ method: HTTPRequest.Method, _ path: String) {
        routes.append(Route(method: method, segments: path.split(separator: "/")))
    }

    /// Methods allowed on `path` (empty when no route has this path).
    func methods(for path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/")
        var methods: [HTTPRequest.Method] = []
        for route in routes where route.segments.count == segments.count
            && zip(route.segments, segments).allSatisfy({ $0.hasPrefix(":") || $0 == $1 }) {
            if !methods.contains(route.method) { methods.append(route.method) }
        }
        return methods
    }
}
