/// Runs `work` with a time limit: when it passes, `work`'s task is cancelled and `timeoutError` is
/// thrown. Work that ignores cancellation still holds the caller until it returns.
func withDeadline<T: Sendable>(_ seconds: Double, timeoutError: @escaping @autoclosure @Sendable () -> APIError,
                               _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw timeoutError() }
        guard let value = first else { throw timeoutError() }
        return value
    }
}
