import ArgumentParser

/// The `kb` command-line tool.
@main
struct KB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kb",
        abstract: "A self-hosted knowledge base: one binary, one SQLite file.",
        discussion: """
            Ingest documents into a database file, then search them.

              kb ingest --db kb.sqlite ~/notes docs.jsonl
              kb search --db kb.sqlite "how do I rotate the logs"

            The database defaults to $KB_DB, else ./kb.sqlite. Models are read from $KB_MODELS_DIR
            (set by bin/kb), else ./models.
            """,
        subcommands: [IngestCommand.self, SearchCommand.self, AskCommand.self, StatsCommand.self, EvalCommand.self, ReembedCommand.self, GenerateCommand.self, BenchCommand.self, ServeCommand.self]
    )
}
