import KBStore

/// Restricts a search to some documents (uri prefix, update time, metadata values). Empty filters
/// allow everything. The store evaluates them (``DocumentFilter``).
public typealias SearchFilters = DocumentFilter
