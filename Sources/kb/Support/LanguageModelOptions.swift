import ArgumentParser
import Foundation
import KBLLM

/// `--model` and `--threads`, shared by the commands that run a GGUF language model.
struct LanguageModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The GGUF model file (a path, or a file name in the models folder: --models, $KB_MODELS_DIR, ./models).",
        valueName: "gguf"))
    var model: String

    @Option(name: .long, help: "Threads for the matrix products (default: every core).")
    var threads: Int?

    @OptionGroup var models: ModelsOption

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads))") }
    }

    /// The model file's path: `--model` as given if it exists, else that name in the models folder.
    var path: String {
        if FileManager.default.fileExists(atPath: model) || model.contains("/") { return model }
        let inFolder = models.directory.appendingPathComponent(model).path
        return FileManager.default.fileExists(atPath: inFolder) ? inFolder : model
    }

    /// Loads the model (memory-mapped); a missing or invalid file is a `CLIError` naming it.
    func load() throws -> LanguageModel {
        let path = self.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("model file not found: \(path)")
        }
        KernelSet.warnAboutOverride()
        do {
            return try LanguageModel(path: path, options: .init(threads: threads))
        } catch {
            throw CLIError("cannot load model: \(error)")
        }
    }
}

extension KernelSet {
    /// Prints why `KB_KERNELS` was not followed, if it was not, to standard error.
    static func warnAboutOverride() {
        if let problem = overrideProblem { FileHandle.standardError.write(Data("kb: \(problem)\n".utf8)) }
    }
}
