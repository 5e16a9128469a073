import Foundation
import KBStore
import KBTestSupport
import XCTest
@testable import KBIngest

/// Records prepared outside any lock and committed later (how the server ingests uploads).
final class RecordIngestTests: XCTestCase {
    private func pipeline() throws -> IngestPipeline {
        let store = try KBDatabase(path: try TestSupport.temporaryDirectory(self).appendingPathComponent("kb.sqlite").path)
        return IngestPipeline(store: store, chunker: Chunker(options: ChunkingOptions(), counter: try TestSupport.loadTokenizer()),
                              options: IngestOptions(), embedder: HashingEmbedder())
    }

    private func record(_ id: String, _ text: String) throws -> JSONLinesReader.Record {
        try JSONSerialization.data(withJSONObject: ["id": id, "text": text]).withUnsafeBytes { try JSONLinesReader.parse(line: $0) }
    }

    func testARecordFoundUnchangedButDeletedBeforeTheCommitIsStoredAgain() throws {
        let pipeline = try pipeline()
        let note = try record("note", "Tide tables list the spring tides.")
        _ = try pipeline.ingest(records: [note], sourcePath: "api")
        let prepared = try pipeline.prepare(records: [note], sourcePath: "api")   // unchanged: nothing chunked

        // Another writer deletes it between the preparation and the commit.
        try pipeline.store.write { writer in
            let id = try XCTUnwrap(try writer.documentState(namespace: .api, uri: "note")?.id)
            try writer.deleteDocument(id: id)
        }
        let result = try pipeline.commit(prepared)
        XCTAssertEqual(result.outcomes.map(\.status), [.added])
        XCTAssertEqual(result.addedChunkIDs.count, 1, "chunked and embedded at commit time")
        let counts = try pipeline.store.statistics()
        XCTAssertEqual([counts.documents, counts.chunks, counts.embeddings], [1, 1, 1])
    }

    func testPreparingWritesNoDocument() throws {
        let pipeline = try pipeline()
        let prepared = try pipeline.prepare(records: [try record("a", "Alpha particles are helium nuclei.")], sourcePath: "api")
        XCTAssertEqual(try pipeline.store.statistics().documents, 0)
        XCTAssertEqual(try pipeline.commit(prepared).outcomes.map(\.status), [.added])
        XCTAssertEqual(try pipeline.store.statistics().documents, 1)
    }
}
