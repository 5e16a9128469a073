import ArgumentParser
import Dispatch
import Foundation
import KBLLM
import KBSupport

/// `kb generate`: run the local language model on a prompt, streaming the answer to stdout.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text with a local GGUF language model.",
        discussion: """
            The prompt is --prompt, else standard input. With --chat (the default) it is the user's
            message, rendered with the model's chat template (after --system, else the template's
            default system prompt); with --raw the model continues the text as is, and stdout
            carries only the generated text. Timings go to standard error. Ctrl-C stops the
            generation and keeps what was generated.

              kb generate --model models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf --prompt "What is a B-tree?"
              echo "The capital of France is" | kb generate --model smollm2-135m-instruct-q4_1.gguf --raw --temperature 0
            """)

    enum Mode: String, EnumerableFlag {
        case chat, raw

        static func help(for value: Mode) -> ArgumentHelp? {
            switch value {
            case .chat: "The prompt is a user message, rendered with the model's chat template (default)."
            case .raw: "The prompt is given to the model as is."
            }
        }
    }

    @OptionGroup var language: LanguageModelOptions

    @Flag var mode: Mode = .chat

    @Option(name: .long, help: ArgumentHelp("The prompt (default: standard input).", valueName: "text"))
    var prompt: String?

    @Option(name: .long, help: ArgumentHelp("The system message (--chat only).", valueName: "text"))
    var system: String?

    @Option(name: .long, help: ArgumentHelp(
        "The chat format when the model's template is missing or unknown (chatml).", valueName: "format"))
    var chatTemplate: String?

    @Option(name: .long, help: "The most tokens to generate.")
    var maxTokens = 256

    @Option(name: .long, help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0.8

    @Option(name: .long, help: "Keep the k most likely tokens; 0 keeps all.")
    var topK = 40

    @Option(name: .long, help: "Keep the most likely tokens up to this total probability; 1 keeps all.")
    var topP: Float = 0.95

    @Option(name: .long, help: "Drop tokens less likely than this fraction of the most likely; 0 keeps all.")
    var minP: Float = 0.05

    @Option(name: .long, help: "Repetition penalty over the last 64 tokens; 1 is off.")
    var repeatPenalty: Float = 1

    @Option(name: .long, help: "Frequency penalty; 0 is off.")
    var frequencyPenalty: Float = 0

    @Option(name: .long, help: "Presence penalty; 0 is off.")
    var presencePenalty: Float = 0

    @Option(name: .long, help: "Random seed (the same seed repeats the same output).")
    var seed: UInt64 = SamplingParameters().seed

    @Option(name: .long, help: ArgumentHelp("Stop before this text (repeatable).", valueName: "text"))
    var stop: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Write every named intermediate of the prompt's first forward pass (up to 512 tokens; llama.cpp's names: "
            + "attn_norm-0, Qcur-0, …, result_output) to this folder as float32 files with an index.json "
            + "(for scripts/compare-with-llamacpp.py).",
        valueName: "dir"))
    var dumpTensors: String?

    func validate() throws {
        if maxTokens < 0 { throw ValidationError("--max-tokens must be 0 or more (got \(maxTokens))") }
        if mode == .raw, system != nil { throw ValidationError("--system needs --chat") }
        if let chatTemplate, ChatTemplate.Format(rawValue: chatTemplate) == nil {
            throw ValidationError("unknown --chat-template \(chatTemplate) (known: "
                                  + ChatTemplate.Format.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        do { try sampling.validate() } catch { throw ValidationError("\(error)") }
    }

    var sampling: SamplingParameters {
        var sampling = SamplingParameters()
        sampling.temperature = temperature
        sampling.topK = topK
        sampling.topP = topP
        sampling.minP = minP
        sampling.repetitionPenalty = repeatPenalty
        sampling.frequencyPenalty = frequencyPenalty
        sampling.presencePenalty = presencePenalty
        sampling.seed = seed
        return sampling
    }

    func run() throws {
        let text = try promptText()
        let loadStart = ContinuousClock.now
        let model = try language.load()
        let loadTime = ContinuousClock.now - loadStart
        let input: String
        switch mode {
        case .raw:
            input = text
        case .chat:
            var messages: [ChatMessage] = []
            if let system { messages.append(.system(system)) }
            messages.append(.user(text))
            input = try chatTemplateFor(model).render(messages)
        }

        let options = GenerationOptions(maxTokens: maxTokens, sampling: sampling, stopStrings: stop)
        let cancellation = CancellationFlag()
        let interrupt = Self.cancelOnInterrupt(cancellation)
        defer { interrupt.cancel() }

        var session = model.makeSession(usePrefixCache: false)
        let dump = try dumpTensors.map { try TensorDump(directory: $0) }
        if let dump {
            session.observer = { name, rows, values in dump.record(name, rows: rows, values: values) }
        }
        defer { dump?.finish() }
        let output = FileHandle.standardOutput
        let result: GenerationResult
        do {
            result = try Generator(model: model).generate(
                prompt: input, options: options, source: &session, cancellation: cancellation
            ) { piece in
                output.write(Data(piece.utf8))
            }
        } catch {
            throw CLIError("\(error)")
        }
        if mode == .chat { output.write(Data("\n".utf8)) }
        let t = result.timings
        StandardError.write(String(
            format: "\nload %.0f ms; prompt %d tokens in %.0f ms (%.1f tokens/s); generated %d tokens in %.0f ms "
                + "(%.1f tokens/s); first token after %.0f ms; finish: %@\n",
            loadTime.milliseconds,
            t.promptTokens, t.promptMilliseconds, t.promptTokensPerSecond, t.generatedTokens,
            t.generationMilliseconds, t.generationTokensPerSecond, t.timeToFirstTokenMilliseconds,
            result.finishReason.rawValue))
    }

    /// --prompt, else all of standard input.
    private func promptText() throws -> String {
        if let prompt { return prompt }
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard let text = String(data: data, encoding: .utf8) else {
            throw CLIError("standard input is not UTF-8 text")
        }
        guard !text.isEmpty else { throw CLIError("no prompt: pass --prompt TEXT or write it to standard input") }
        return text
    }

    private func chatTemplateFor(_ model: LanguageModel) throws -> ChatTemplate {
        if let chatTemplate, let format = ChatTemplate.Format(rawValue: chatTemplate) {
            // The model's default system prompt still applies when its template is of this format.
            let own = try? ChatTemplate(model: model)
            return ChatTemplate(format: format, defaultSystemPrompt: own?.format == format ? own?.defaultSystemPrompt : nil)
        }
        do {
            return try ChatTemplate(model: model)
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// Turns SIGINT into a cancellation of the generation (a second Ctrl-C kills as usual).
    private static func cancelOnInterrupt(_ flag: CancellationFlag) -> DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            flag.cancel()
            signal(SIGINT, SIG_DFL)
        }
        source.resume()
        return source
    }
}

/// Writes the named intermediates of the first forward pass to a folder: `NAME.f32` (row-major
/// float32, little-endian) and `index.json` (`[{"name", "rows", "count"}]` in the order seen).
/// Later passes (the generated tokens) are ignored: a name already written is not written again.
final class TensorDump {
    private let directory: URL
    private var entries: [[String: Any]] = []
    private var seen: Set<String> = []

    init(directory path: String) throws {
        directory = URL(fileURLWithPath: path, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func record(_ name: String, rows: Int, values: UnsafeBufferPointer<Float>) {
        guard seen.insert(name).inserted else { return }
        let data = Data(buffer: values)
        FileManager.default.createFile(atPath: directory.appendingPathComponent(name + ".f32").path, contents: data)
        entries.append(["name": name, "rows": rows, "count": values.count])
    }

    func finish() {
        if let data = try? JSONSerialization.data(withJSONObject: entries, options: [.prettyPrinted]) {
            FileManager.default.createFile(atPath: directory.appendingPathComponent("index.json").path, contents: data)
        }
    }
}
