import Foundation
import KBSearch

/// A source given to the model, and, when the answer cites it, the citation: marker `[n]` maps to
/// this chunk and to the exact span `start_offset..<end_offset` (Unicode scalars) of its document,
/// whose text is `text`.
public struct Citation: Codable, Sendable, Equatable {
    public var marker: Int
    public var documentID: Int64
    public var chunkID: Int64
    /// The document's identity (source path or record id), and its `url` when it has one.
    public var uri: String
    public var url: String?
    public var title: String
    public var headingPath: [String]
    public var startOffset: Int
    public var endOffset: Int
    public var text: String
    public var score: Double

    enum CodingKeys: String, CodingKey {
        case marker, documentID = "document_id", chunkID = "chunk_id", uri, url, title, headingPath = "heading_path"
        case startOffset = "start_offset", endOffset = "end_offset", text, score
    }

    init(marker: Int, hit: SearchHit) {
        self.marker = marker
        documentID = hit.documentID
        chunkID = hit.chunkID
        uri = hit.uri
        url = hit.url
        title = hit.title
        headingPath = hit.headingPath
        startOffset = hit.startOffset
        endOffset = hit.endOffset
        text = hit.text
        score = hit.score
    }

    /// The sources an answer cites, in order of first mention. Markers look like `[2]` or `[1, 3]`;
    /// numbers without a source are ignored.
    static func cited(in answer: String, sources: [Citation]) -> [Citation] {
        var order: [Int] = []
        let scalars = Array(answer.unicodeScalars)
        var i = 0
        while i < scalars.count {
            guard scalars[i] == "[" else { i += 1; continue }
            var j = i + 1
            var numbers: [Int] = []
            var current = ""
            var valid = true
            while j < scalars.count, scalars[j] != "]" {
                let c = scalars[j]
                if c.properties.numericType != nil, c.isASCII { current.unicodeScalars.append(c) }
                else if c == "," || c == " " {
                    if let n = Int(current) { numbers.append(n) }
                    current = ""
                } else { valid = false; break }
                j += 1
            }
            if valid, j < scalars.count, let n = Int(current) { numbers.append(n) }
            if valid, j < scalars.count {
                for n in numbers where (1...sources.count).contains(n) && !order.contains(n) { order.append(n) }
                i = j + 1
            } else {
                i += 1
            }
        }
        return order.map { sources[$0 - 1] }
    }
}
