/// Counters of a ``PrefixCache`` since it was created (a snapshot).
public struct PrefixCacheStatistics: Sendable, Equatable {
    /// Lookups of a prompt's longest cached prefix.
    public var lookups = 0
    /// Lookups that reused at least one block.
    public var hits = 0
    /// Tokens whose keys and values were reused instead of computed, over all lookups.
    public var reusedTokens = 0
    /// Blocks stored when the snapshot was taken.
    public var blocks = 0
    /// Bytes of key/value data stored when the snapshot was taken (at most the budget).
    public var bytes = 0
    /// Blocks added.
    public var insertions = 0
    /// Blocks evicted to stay within the budget.
    public var evictions = 0
    /// Blocks not added because every stored block was in use and the budget was full.
    public var rejected = 0
}
