import Foundation
import KBEmbedding
import KBStore
import KBSupport

/// `kb ingest`: walks the inputs, reads and chunks documents on worker threads, and stores them in
/// batches, one transaction per batch.
///
/// Idempotent and resumable: a document whose record hash (content, metadata and chunker settings)
/// is already stored is skipped before it is chunked, so re-running after a crash or `kill -9`
/// redoes only the batch that was in flight. A changed document's chunks are replaced inside the
/// same transaction that updates it. Bad input is reported per source and never stops the run.
public final class IngestPipeline: @unchecked Sendable {
    let store: KBDatabase
    private let chunker: Chunker
    let options: IngestOptions
    private let embedder: (any Embedder)?

    /// - Parameter embedder: embeds every new or changed chunk (and any stored chunk still without a
    ///   vector of this model); nil stores no vectors.
    public init(store: KBDatabase, chunker: Chunker, options: IngestOptions, embedder: (any Embedder)? = nil) {
        self.store = store
        self.chunker = chunker
        self.options = options
        self.embedder = embedder
    }

    /// Ingests `inputs` (files and directories).
    /// - Parameter progress: called after every batch, from the calling thread.
    /// - Throws: only database errors (disk full, a locked database); per-source problems are in the report.
    public func run(_ inputs: [String], progress: (IngestProgress) -> Void = { _ in }) throws -> IngestReport {
        let started = Date()
        let model = try registerEmbedder()
        // Issues found on this thread (walk, unreadable JSON Lines files); the writer keeps its own.
        var front = IngestReport()
        var frontProtected = Set<String>()
        let walk = SourceWalker(include: options.include, exclude: options.exclude).walk(inputs)
        for issue in walk.issues {
            if issue.isFailure { front.fail(issue.source, issue.reason) } else { front.skip(issue.source, issue.reason) }
        }
        let bytesTotal = walk.files.reduce(0) { $0 + $1.size }
        var bytesDone = 0
        var batch: [WorkItem] = []
        let writer = BatchWriter { [self] results, report, state in
            try write(results, modelID: model?.id, report: &report, state: &state)
        }

        func report(after writerReport: IngestReport) -> IngestReport {
            var merged = front
            merged.merge(writerReport)
            merged.bytes = bytesDone
            merged.seconds = Date().timeIntervalSince(started)
            return merged
        }

        /// Parses the batch on the workers while the writer commits the previous one.
        func flush() throws {
            guard !batch.isEmpty else { return }
            var results = process(batch)
            batch.removeAll(keepingCapacity: true)
            let embedded = try embed(&results)
            let committed = try writer.waitForPrevious()
            front.embedded += embedded
            let snapshot = report(after: committed.report)
            progress(IngestProgress(report: snapshot, bytesDone: bytesDone, bytesTotal: bytesTotal,
                                    elapsedSeconds: snapshot.seconds))
            writer.submit(results)
        }

        for file in walk.files {
            if file.format == .jsonl {
                do {
                    var reader = try LineReader(path: file.path, maxLineBytes: options.maxDocumentBytes)
                    defer { reader.close() }
                    while let line = try reader.next() {
                        let location = "\(file.displayPath):\(reader.lineNumber)"
                        switch line {
                        case .text(let bytes):
                            bytesDone += bytes.count + 1
                            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                            batch.append(.record(file: file, location: location, bytes: Array(bytes)))
                        case .tooLong(let bytes):
                            bytesDone += bytes + 1
                            batch.append(.oversizedRecord(file: file, location: location, bytes: bytes))
                        }
                        if batch.count >= options.batchSize { try flush() }
                    }
                } catch let error as ReadError {
                    frontProtected.insert(file.path)
                    front.fail(file.displayPath, error.description)
                } catch where StoreError.isDatabaseError(error) {
                    throw error
                } catch {
                    frontProtected.insert(file.path)
                    front.fail(file.displayPath, "cannot read: \(error.localizedDescription)")
                }
            } else {
                bytesDone += file.size
                batch.append(.file(file))
                if batch.count >= options.batchSize { try flush() }
            }
        }
        try flush()
        var (writerReport, state) = try writer.waitForPrevious()
        state.protectedSources.formUnion(frontProtected)
        var final = report(after: writerReport)
        progress(IngestProgress(report: final, bytesDone: bytesDone, bytesTotal: bytesTotal, elapsedSeconds: final.seconds))
        if options.prune { try prune(walk: walk, state: state, report: &final) }
        if let model { final.embedded += try backfillVectors(model) }
        final.seconds = Date().timeIntervalSince(started)
        writerReport = final
        return writerReport
    }

    // MARK: - Work items

    enum WorkItem: Sendable {
        case file(SourceFile)
        case record(file: SourceFile, location: String, bytes: [UInt8])
        case oversizedRecord(file: SourceFile, location: String, bytes: Int)
    }

    enum ItemResult: Sendable {
        /// A document to store; `dedupe` asks to skip it if another URI holds the same text.
        case document(DocumentInput, location: String, dedupe: Bool, warning: String?)
        case unchanged(uri: String, location: String)
        case skipped(location: String, reason: String, sourcePath: String?)
        case failed(location: String, reason: String, sourcePath: String)
    }

    struct RunState {
        /// URIs stored or confirmed in this run, with where they came from.
        var seen: [String: String] = [:]
        /// Files with a read failure or a malformed record: prune leaves their documents alone.
        var protectedSources = Set<String>()
    }

    /// Reads, parses and chunks a batch on the worker threads.
    private func process(_ items: [WorkItem]) -> [ItemResult] {
        ParallelMap.map(items, threads: options.threads) { item in self.process(item) }
    }

    private func process(_ item: WorkItem) -> ItemResult {
        switch item {
        case .file(let file):
            return processFile(file)
        case .record(let file, let location, let bytes):
            do {
                let record = try bytes.withUnsafeBytes { try JSONLinesReader.parse(line: $0) }
                return prepare(record.document, namespace: .ingest, uri: record.id, sourcePath: file.path,
                               location: location, dedupe: false, warning: nil)
            } catch let error as ReadError {
                return .failed(location: location, reason: error.description, sourcePath: file.path)
            } catch {
                return .failed(location: location, reason: "\(error)", sourcePath: file.path)
            }
        case .oversizedRecord(let file, let location, let bytes):
            return .skipped(location: location,
                            reason: ReadError.tooLarge(bytes: bytes, limit: options.maxDocumentBytes).description,
                            sourcePath: file.path)
        }
    }

    private func processFile(_ file: SourceFile) -> ItemResult {
        if file.size > options.maxDocumentBytes {
            return .skipped(location: file.displayPath,
                            reason: ReadError.tooLarge(bytes: file.size, limit: options.maxDocumentBytes).description,
                            sourcePath: file.path)
        }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            let reason = access(file.path, R_OK) != 0 ? "permission denied" : "read error"
            return .failed(location: file.displayPath, reason: "cannot read: \(reason)", sourcePath: file.path)
        }
        if data.isEmpty { return .skipped(location: file.displayPath, reason: "empty file", sourcePath: file.path) }
        if let document = readBinaryDocument(file, data: data) { return document }
        let decoded: TextDecoding.Decoded
        do {
            decoded = try data.withUnsafeBytes { try TextDecoding.decode($0, strict: options.strictUTF8) }
        } catch let error as ReadError {
            if case .binary = error {
                return .skipped(location: file.displayPath, reason: error.description, sourcePath: file.path)
            }
            return .failed(location: file.displayPath, reason: error.description, sourcePath: file.path)
        } catch {
            return .failed(location: file.displayPath, reason: "\(error)", sourcePath: file.path)
        }
        let stem = ((file.path as NSString).lastPathComponent as NSString).deletingPathExtension
        let parsed: ParsedDocument
        switch file.format ?? .text {
        case .markdown: parsed = MarkdownReader.parse(decoded.text, fileStem: stem)
        case .html: parsed = HTMLReader.parse(decoded.text, fileStem: stem)
        case .text, .jsonl, .pdf, .docx, .pptx, .xlsx, .odt, .ods, .odp: parsed = PlainTextReader.parse(decoded.text, fileStem: stem)
        }
        let warning = decoded.repairedSequences > 0
            ? "invalid UTF-8: \(decoded.repairedSequences) bad byte sequence(s) replaced with U+FFFD" : nil
        return prepare(parsed, namespace: .ingest, uri: file.path, sourcePath: file.path, location: file.displayPath,
                       dedupe: true, warning: warning)
    }

    /// Hashes the document, skips it if unchanged, else chunks it.
    func prepare(_ parsed: ParsedDocument, namespace: DocumentNamespace, uri: String, sourcePath: String,
                 location: String, dedupe: Bool, warning: String?) -> ItemResult {
        let stored = try? store.read { try $0.documentState(namespace: namespace, uri: uri) }
        return prepare(parsed, namespace: namespace, uri: uri, sourcePath: sourcePath, location: location,
                       dedupe: dedupe, warning: warning, storedRecordHash: stored?.recordHash)
    }

    /// Hashes the document, skips it if its record hash is `storedRecordHash`, else chunks it.
    func prepare(_ parsed: ParsedDocument, namespace: DocumentNamespace, uri: String, sourcePath: String,
                 location: String, dedupe: Bool, warning: String?, storedRecordHash: String?) -> ItemResult {
        guard parsed.text.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
            return .skipped(location: location, reason: "empty document (no text)", sourcePath: sourcePath)
        }
        let contentHash = ContentHash.sha256Hex(parsed.text)
        let recordHash = self.recordHash(parsed, uri: uri, sourcePath: sourcePath, contentHash: contentHash)
        if storedRecordHash == recordHash {
            return .unchanged(uri: uri, location: location)
        }
        let chunks = chunker.chunk(parsed)
        let document = DocumentInput(
            namespace: namespace, uri: uri, sourcePath: sourcePath, url: parsed.url, title: parsed.title, format: parsed.format.rawValue,
            contentHash: contentHash, recordHash: recordHash, metadataJSON: parsed.metadataJSON, text: parsed.text,
            charCount: parsed.text.unicodeScalars.count, chunks: chunks)
        return .document(document, location: location, dedupe: dedupe, warning: warning)
    }

    /// sha256 of every stored field and the chunker signature: equal means nothing to do.
    func recordHash(_ parsed: ParsedDocument, uri: String, sourcePath: String, contentHash: String) -> String {
        let fields = [uri, sourcePath, parsed.url ?? "", parsed.title, parsed.format.rawValue,
                      parsed.metadataJSON ?? "", contentHash, chunker.signature]
        return ContentHash.sha256Hex(fields.joined(separator: "\u{1F}"))
    }

    // MARK: - Embedding

    /// Records the embedder in the database and makes it the active model if there is none yet.
    /// - Throws: ``IngestError/otherActiveModel(active:requested:)`` when the base searches with another model.
    func registerEmbedder() throws -> EmbeddingModelRecord? {
        guard let embedder else { return nil }
        do {
            return try store.write { writer in
                try writer.registerEmbeddingModel(name: embedder.name, dimensions: embedder.dimensions,
                                                  fingerprint: embedder.fingerprint, activation: .activate).model
            }
        } catch EmbeddingStoreError.otherActiveModel(let active, let requested) {
            throw IngestError.otherActiveModel(active: active, requested: requested)
        }
    }

    /// Embeds the chunks of every document in the batch with one call, so the model batches texts of
    /// similar length across documents. Returns the number of vectors computed.
    func embed(_ results: inout [ItemResult]) throws -> Int {
        guard let embedder else { return 0 }
        var texts: [String] = []
        for result in results {
            guard case .document(let document, _, _, _) = result else { continue }
            for chunk in document.chunks {
                texts.append(EmbeddingText.of(title: document.title, headingPath: chunk.headingPath, text: chunk.text))
            }
        }
        guard !texts.isEmpty else { return 0 }
        let vectors = try embedder.embed(texts, kind: .passage)
        var next = 0
        for index in results.indices {
            guard case .document(var document, let location, let dedupe, let warning) = results[index] else { continue }
            for c in document.chunks.indices {
                document.chunks[c].embedding = vectors[next]
                next += 1
            }
            results[index] = .document(document, location: location, dedupe: dedupe, warning: warning)
        }
        return texts.count
    }

    /// Embeds stored chunks that have no vector of the model yet (ingested with `--no-embed`, or
    /// before the model was chosen), a bounded batch per transaction.
    private func backfillVectors(_ model: EmbeddingModelRecord) throws -> Int {
        guard let embedder else { return 0 }
        return try store.fillMissingVectors(of: model, batchSize: 512) { try embedder.embed($0, kind: .passage) }
    }

    // MARK: - Writing

    /// Stores a batch in one transaction.
    private func write(_ results: [ItemResult], modelID: Int64?, report: inout IngestReport, state: inout RunState) throws {
        var batchReport = report
        var batchState = state
        try store.write { writer in
            for result in results {
                switch result {
                case .document(let document, let location, let dedupe, let warning):
                    if let first = batchState.seen[document.uri] {
                        batchReport.skip(location, "duplicate id \"\(document.uri)\" (first seen at \(first))")
                        continue
                    }
                    if dedupe, let original = try writer.duplicateDocument(contentHash: document.contentHash,
                                                                           namespace: document.namespace,
                                                                           otherThan: document.uri) {
                        // A stale earlier version of this path would now be a second copy: drop it.
                        if let stale = try writer.documentState(namespace: document.namespace, uri: document.uri) {
                            try writer.deleteDocument(id: stale.id)
                        }
                        batchReport.skip(location, "same content as \(original)")
                        continue
                    }
                    batchState.seen[document.uri] = location
                    if let warning { batchReport.warnings.append(SourceIssue(source: location, reason: warning, isFailure: false)) }
                    switch try writer.put(document, embeddingModelID: modelID) {
                    case .added: batchReport.added += 1; batchReport.chunks += document.chunks.count
                    case .updated: batchReport.updated += 1; batchReport.chunks += document.chunks.count
                    case .unchanged: batchReport.unchanged += 1
                    }
                case .unchanged(let uri, let location):
                    if let first = batchState.seen[uri] {
                        batchReport.skip(location, "duplicate id \"\(uri)\" (first seen at \(first))")
                        continue
                    }
                    batchState.seen[uri] = location
                    batchReport.unchanged += 1
                case .skipped(let location, let reason, _):
                    batchReport.skip(location, reason)
                case .failed(let location, let reason, let sourcePath):
                    batchState.protectedSources.insert(sourcePath)
                    batchReport.fail(location, reason)
                }
            }
        }
        report = batchReport
        state = batchState
    }

    /// Deletes documents that came from the walked directories or JSON Lines files but were not seen.
    private func prune(walk: SourceWalker.Walk, state: RunState, report: inout IngestReport) throws {
        let jsonlFiles = walk.files.filter { $0.format == .jsonl }.map(\.path)
        var pruned = 0
        try store.write { writer in
            let candidates = try writer.ingestedDocuments(fromSourcePaths: jsonlFiles, orUnder: walk.directories)
            var done = Set<Int64>()
            for candidate in candidates where state.seen[candidate.uri] == nil
                && !state.protectedSources.contains(candidate.sourcePath) && done.insert(candidate.id).inserted {
                try writer.deleteDocument(id: candidate.id)
                pruned += 1
            }
        }
        report.pruned = pruned
    }
}
