import Foundation

/// A retrieval test set in BEIR's layout: `corpus.jsonl` (`_id`, `title`, `text`), `queries.jsonl`
/// (`_id`, `text`) and `qrels/test.tsv` (`query-id`, `corpus-id`, `score`, with a header line).
public struct BEIRDataset: Sendable {
    public var directory: URL
    public var corpusFile: URL { directory.appendingPathComponent("corpus.jsonl") }
    /// Query id → text, for the queries that have judgements.
    public var queries: [(id: String, text: String)]
    /// Query id → (document id → graded relevance > 0).
    public var judgements: [String: [String: Int]]

    /// Reads the queries and judgements (the corpus is ingested separately).
    /// - Throws: ``EvaluationError`` naming the file and line that is wrong.
    public init(directory: URL) throws {
        self.directory = directory
        let qrelsFile = directory.appendingPathComponent("qrels/test.tsv")
        let queriesFile = directory.appendingPathComponent("queries.jsonl")
        for file in [directory.appendingPathComponent("corpus.jsonl"), queriesFile, qrelsFile] where !FileManager.default.fileExists(atPath: file.path) {
            throw EvaluationError.missingFile(file.path)
        }
        var judgements: [String: [String: Int]] = [:]
        for (number, line) in try Self.lines(qrelsFile).enumerated() where !line.isEmpty {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            if number == 0 && fields.first == "query-id" { continue }
            guard fields.count >= 3, let score = Int(fields[2].trimmingCharacters(in: .whitespaces)) else {
                throw EvaluationError.malformed(file: qrelsFile.path, line: number + 1, reason: "expected query-id, corpus-id, score")
            }
            if score > 0 { judgements[String(fields[0]), default: [:]][String(fields[1])] = score }
        }
        var queries: [(String, String)] = []
        for (number, line) in try Self.lines(queriesFile).enumerated() where !line.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let text = object["text"] as? String else {
                throw EvaluationError.malformed(file: queriesFile.path, line: number + 1, reason: "expected {\"_id\", \"text\"}")
            }
            let id = (object["_id"] as? String) ?? (object["_id"] as? NSNumber)?.stringValue ?? ""
            if judgements[id] != nil { queries.append((id, text)) }
        }
        guard !queries.isEmpty else { throw EvaluationError.noJudgedQueries(directory.path) }
        self.queries = queries
        self.judgements = judgements
    }

    private static func lines(_ file: URL) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: file.path) else { throw EvaluationError.missingFile(file.path) }
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}

/// Problems with an evaluation set.
public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    case missingFile(String)
    case malformed(file: String, line: Int, reason: String)
    case noJudgedQueries(String)

    public var description: String {
        switch self {
        case .missingFile(let path): return "\(path): missing (a BEIR set has corpus.jsonl, queries.jsonl, qrels/test.tsv)"
        case .malformed(let file, let line, let reason): return "\(file):\(line): \(reason)"
        case .noJudgedQueries(let directory): return "\(directory): no query in queries.jsonl has judgements in qrels/test.tsv"
        }
    }
}
