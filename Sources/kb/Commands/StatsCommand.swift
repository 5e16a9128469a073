import ArgumentParser
import Foundation
import KBIngest
import KBStore

/// `kb stats`: what a knowledge base holds.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show document, chunk and embedding counts, and optionally check the file's integrity.")

    @OptionGroup var database: DatabaseOption

    @Flag(name: .long, help: "Also run SQLite's integrity check and read the whole full-text index (reads the whole file).")
    var check = false

    @Flag(name: .long, help: "Print as JSON.")
    var json = false

    struct Output: Encodable {
        var database: String
        var bytes: Int
        var documents: Int
        var chunks: Int
        var embeddings: Int
        var integrity: String?
    }

    func run() throws {
        let store = try database.open(.readOnly)
        var integrity: String?
        if check {
            // First, so that a file too damaged to count its rows still gets its findings reported.
            let problems = try store.integrityProblems()
            integrity = problems.isEmpty ? "ok" : problems.joined(separator: "; ")
        }
        let counts: KBDatabase.Statistics
        do {
            counts = try store.statistics()
        } catch {
            guard let integrity, integrity != "ok" else { throw error }
            throw CLIError("\(database.db): integrity: \(integrity)")
        }
        var bytes = 0
        for suffix in ["", "-wal"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: database.db + suffix)[.size] as? NSNumber)??.intValue
            bytes += size ?? 0
        }
        let output = Output(database: database.db, bytes: bytes, documents: counts.documents, chunks: counts.chunks,
                            embeddings: counts.embeddings, integrity: integrity)
        if json {
            try printJSON(output)
        } else {
            print("\(output.database): \(output.documents) documents, \(output.chunks) chunks, "
                  + "\(output.embeddings) embeddings, \(ByteCount.format(bytes))")
            if let integrity { print("integrity: \(integrity)") }
        }
        if let integrity, integrity != "ok" { throw ExitCode(1) }
    }
}
