import ArgumentParser
import Foundation
import KBIngest

/// `kb bench read`: how fast kb's PDF and Office readers turn files into documents.
struct BenchReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Read PDF/Office files --runs times with kb's readers and report pages (or files) per second.",
        discussion: """
            Times what `kb ingest` does per file before chunking: for a PDF, pdftotext -bbox-layout in a
            child process plus kb's layout pass (reading order, running lines, hyphenation, headings).
            bench/pdf-reader.sh compares it with pdftotext alone on the same files.
            """)

    @Option(name: .long, help: "Timed runs (the median is reported).")
    var runs: Int = 3

    @Flag(name: .long, help: "Print as JSON.")
    var json = false

    @Argument(help: ArgumentHelp("PDF, DOCX, PPTX or XLSX files.", valueName: "files"))
    var files: [String]

    struct Output: Encodable {
        var files: Int
        var pages: Int
        var characters: Int
        var medianSeconds: Double
        var pagesPerSecond: Double
    }

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    }

    func run() throws {
        let inputs = try files.map { path -> (String, Data, DocumentFormat?) in
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): cannot read") }
            return (path, data, DocumentFormat(fileExtension: (path as NSString).pathExtension))
        }
        var seconds: [Double] = []
        var pages = 0
        var characters = 0
        for _ in 0..<runs {
            pages = 0
            characters = 0
            let start = DispatchTime.now().uptimeNanoseconds
            for (path, data, format) in inputs {
                do {
                    guard let document = try BinaryDocumentReader.read(path: path, data: data, declared: format,
                                                                       fileStem: "bench") else {
                        throw CLIError("\(path): not a PDF or Office file")
                    }
                    pages += max(1, document.pages.count)
                    characters += document.text.unicodeScalars.count
                } catch let error as ReadError {
                    throw CLIError("\(path): \(error.description)")
                }
            }
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let median = seconds.sorted()[seconds.count / 2]
        let output = Output(files: inputs.count, pages: pages, characters: characters, medianSeconds: median,
                            pagesPerSecond: Double(pages) / median)
        if json {
            try printJSON(output)
        } else {
            print(String(format: "%d files, %d pages: median %.3f s, %.1f pages/s", output.files, output.pages,
                         output.medianSeconds, output.pagesPerSecond))
        }
    }
}
