import Hummingbird
import Logging

/// The per-request context of `kb serve`: Hummingbird's core storage (logger with the request id,
/// route parameters, matched endpoint path).
public struct KBRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}
