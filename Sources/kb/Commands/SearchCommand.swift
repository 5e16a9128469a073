import ArgumentParser
import Foundation
import KBSearch
import KBStore

/// `kb search`: query the knowledge base from the command line.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the knowledge base.",
        discussion: """
            Any text is a valid query: search syntax characters are treated as separators. Lexical search
            ranks chunks by BM25 over titles, headings and text; Chinese and Japanese match at any length.
            """)

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case lexical
    }

    @OptionGroup var database: DatabaseOption

    @Argument(help: ArgumentHelp("What to search for.", valueName: "query"))
    var query: [String]

    @Option(name: .long, help: "Search mode.")
    var mode: Mode = .lexical

    @Option(name: .long, help: ArgumentHelp("Number of results (1-\(LexicalSearch.maxTopK)).", valueName: "n"))
    var topK: Int = 10

    @Flag(name: .long, help: "Print results as JSON: {\"results\": [{\"uri\", \"title\", \"score\", \"text\", …}]}.")
    var json = false

    func validate() throws {
        guard (1...LexicalSearch.maxTopK).contains(topK) else {
            throw ValidationError("--top-k must be between 1 and \(LexicalSearch.maxTopK) (got \(topK))")
        }
    }

    struct Output: Encodable {
        var query: String
        var mode: String
        var results: [SearchHit]
    }

    func run() throws {
        let store = try database.open(.readOnly)
        let text = query.joined(separator: " ")
        let hits = try LexicalSearch(store: store).search(text, topK: topK)
        if json {
            try printJSON(Output(query: text, mode: mode.rawValue, results: hits))
            return
        }
        if hits.isEmpty {
            print("No results for \"\(text)\".")
            return
        }
        let bold = StandardError.isTerminal && isatty(1) == 1
        for (rank, hit) in hits.enumerated() {
            let heading = hit.headingPath.isEmpty ? "" : " › " + hit.headingPath.joined(separator: " › ")
            print("\(rank + 1). \(hit.title)\(heading)  [\(String(format: "%.2f", hit.score))]")
            print("   \(hit.uri)")
            print("   \(render(hit.snippet, bold: bold))")
        }
    }

    private func render(_ snippet: Snippet, bold: Bool) -> String {
        let scalars = Array(snippet.text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var position = 0
        let open = bold ? "\u{1B}[1m" : "«", close = bold ? "\u{1B}[0m" : "»"
        for span in snippet.highlights where span.start >= position {
            out.append(contentsOf: scalars[position..<span.start])
            out.append(contentsOf: open.unicodeScalars)
            out.append(contentsOf: scalars[span.start..<span.end])
            out.append(contentsOf: close.unicodeScalars)
            position = span.end
        }
        out.append(contentsOf: scalars[position...])
        return String(out)
    }
}
