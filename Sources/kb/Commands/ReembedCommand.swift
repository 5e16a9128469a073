import ArgumentParser
import Foundation
import KBEmbedding
import KBIngest
import KBStore

/// `kb reembed`: switch a knowledge base to another embedding model.
struct ReembedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reembed",
        abstract: "Compute every chunk's vector with another embedding model, then switch to it atomically.",
        discussion: """
            Searches keep using the current model's vectors until the switch. Interrupted runs continue
            where they stopped. With the base's current model, fills in chunks that have no vector.
            Known models: \(EmbedderCatalog.names.joined(separator: ", ")).
            """)

    @OptionGroup var database: DatabaseOption
    @OptionGroup var modelsOption: ModelsOption

    @Option(name: .long, help: ArgumentHelp("The embedding model to switch to.", valueName: "name"))
    var model: String

    @Flag(name: .long, help: "Keep the previous model's vectors (to switch back without recomputing).")
    var keepOld = false

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let store = try database.open(.readWrite)
        var reembedder = Reembedder(store: store, embedder: try modelsOption.loadEmbedder(model))
        reembedder.keepPrevious = keepOld
        let showProgress = !json && StandardError.isTerminal
        let report = try reembedder.run { done, total in
            if showProgress { StandardError.write("\r\u{1B}[2Kembedded \(done)/\(total) chunks") }
        }
        if showProgress { StandardError.write("\r\u{1B}[2K") }
        if json {
            try printJSON(report)
        } else {
            let from = report.previousModel.map { " (was \($0))" } ?? ""
            print(String(format: "%@ now searches with %@%@: %d chunks embedded, %d old vectors deleted, %.1f s",
                         database.db, report.model, from, report.embedded, report.deletedVectors, report.seconds))
        }
    }
}
