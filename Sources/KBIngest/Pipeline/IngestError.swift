/// Errors that stop an ingest run before it starts.
public enum IngestError: Error, CustomStringConvertible, Equatable {
    /// The knowledge base searches with vectors of another model.
    case otherActiveModel(active: String, requested: String)

    public var description: String {
        switch self {
        case .otherActiveModel(let active, let requested):
            return "this knowledge base uses the embedding model \(active), not \(requested); ingest with "
                + "--embedder \(active), or switch the base with `kb reembed --model \(requested)`"
        }
    }
}
