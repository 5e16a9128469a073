import Dispatch

/// Commits batches on a thread of its own, one at a time and in order, so the worker threads can
/// read and chunk the next batch meanwhile. Holds the writer's share of the report and run state;
/// they are only read after ``waitForPrevious()``.
final class BatchWriter: @unchecked Sendable {
    typealias Write = ([IngestPipeline.ItemResult], inout IngestReport, inout IngestPipeline.RunState) throws -> Void

    private let queue = DispatchQueue(label: "kb.ingest.writer")
    private let group = DispatchGroup()
    private let write: Write
    private var report = IngestReport()
    private var state = IngestPipeline.RunState()
    private var failure: (any Error)?

    init(_ write: @escaping Write) { self.write = write }

    /// Starts committing `results`; call ``waitForPrevious()`` before the next submit.
    func submit(_ results: [IngestPipeline.ItemResult]) {
        queue.async(group: group) { [self] in
            guard failure == nil else { return }
            do {
                try write(results, &report, &state)
            } catch {
                failure = error
            }
        }
    }

    /// Waits for the batch in flight; rethrows its error (the batch's transaction was rolled back).
    func waitForPrevious() throws -> (report: IngestReport, state: IngestPipeline.RunState) {
        group.wait()
        if let failure { throw failure }
        return (report, state)
    }
}
