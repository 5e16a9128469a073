import Foundation
@testable import KBServer

/// A deterministic stand-in for the language model. Its answer is a function of the prompt: it
/// quotes the first words of the first source's text with `[1]` and of the last's with `[n]`, one word per
/// piece, and it models a prefix cache by counting the words shared with the previous prompt. It
/// records every prompt and how each generation ended, can wait between pieces (to be interrupted)
/// and can be held at a gate (to fill the queue).
final class ScriptedGenerator: AnswerGenerator, @unchecked Sendable {
    let modelID = "scripted-test-model"
    private let lock = NSLock()
    private var _prompts: [[PromptMessage]] = []
    private var _endings: [String] = []
    private var previousPromptWords: [Substring] = []
    private var gateOpen = true
    var delayPerPiece: Double = 0
    /// When set, ``prepare(_:)`` refuses prompts of more words, as an engine refuses a prompt longer
    /// than its context.
    var maxPromptWords: Int?

    var prompts: [[PromptMessage]] { lock.withLock { _prompts } }
    /// "finished", "cancelled" or "client error" per generation, in order of ending.
    var endings: [String] { lock.withLock { _endings } }
    var calls: Int { prompts.count }

    /// While closed, generations wait before producing anything.
    func closeGate() { lock.withLock { gateOpen = false } }
    func openGate() { lock.withLock { gateOpen = true } }
    private var isGateOpen: Bool { lock.withLock { gateOpen } }

    /// The text this double produces for a prompt.
    static func answer(for messages: [PromptMessage]) -> String {
        let user = messages.last?.content ?? ""
        var sources: [(marker: Int, words: [Substring])] = []
        let lines = user.split(separator: "\n", omittingEmptySubsequences: false)
        // Each source is a line "[n]", a line with its label, then its text.
        for (index, line) in lines.enumerated() where line.hasPrefix("[") && line.hasSuffix("]") {
            guard let marker = Int(line.dropFirst().dropLast()), index + 2 < lines.count else { continue }
            sources.append((marker, lines[index + 2].split(separator: " ").prefix(8).map { $0 }))
        }
        guard let first = sources.first, let last = sources.last else { return "No sources." }
        // One sentence quoting the first source and one quoting the last (or, with one source, its next words).
        var text = first.words.prefix(4).joined(separator: " ") + " [\(first.marker)]."
        let second = last.marker != first.marker ? last.words.prefix(4) : first.words.dropFirst(4).prefix(4)
        if !second.isEmpty { text += " " + second.joined(separator: " ") + " [\(last.marker)]." }
        return text
    }

    func prepare(_ messages: [PromptMessage]) throws -> PreparedPrompt {
        let words = messages.reduce(0) { $0 + $1.content.split(separator: " ").count }
        if let maxPromptWords, words > maxPromptWords {
            throw APIError.badRequest("context_length_exceeded", "the prompt has \(words) words; the limit is \(maxPromptWords)")
        }
        return PreparedPrompt(messages: messages)
    }

    func generate(_ prompt: PreparedPrompt, parameters: GenerationParameters,
                  onText: @Sendable (String) async throws -> Void) async throws -> GenerationOutcome {
        let messages = prompt.messages
        let promptWords: [Substring] = messages.flatMap { message -> [Substring] in
            [Substring("<\(message.role.rawValue)>")] + message.content.split(separator: " ")
        }
        let cached = lock.withLock { () -> Int in
            _prompts.append(messages)
            let shared = zip(previousPromptWords, promptWords).prefix { $0 == $1 }.count
            previousPromptWords = promptWords
            return shared
        }
        do {
            while !isGateOpen {
                try await Task.sleep(for: .milliseconds(5))
            }
            let pieces = Self.answer(for: messages).split(separator: " ", omittingEmptySubsequences: false)
            var produced = 0
            for (index, word) in pieces.enumerated() {
                if produced == parameters.maxTokens { break }
                try Task.checkCancellation()
                if delayPerPiece > 0 { try await Task.sleep(for: .milliseconds(Int64(delayPerPiece * 1000))) }
                try await onText(index == 0 ? String(word) : " " + word)
                produced += 1
            }
            lock.withLock { _endings.append("finished") }
            return GenerationOutcome(finishReason: produced < pieces.count ? .length : .stop,
                                    usage: GenerationUsage(promptTokens: promptWords.count, completionTokens: produced,
                                                           cachedPromptTokens: cached))
        } catch is CancellationError {
            lock.withLock { _endings.append("cancelled") }
            throw CancellationError()
        } catch {
            lock.withLock { _endings.append("client error") }
            throw error
        }
    }
}
