import Foundation

/// A question-answering test set (built by `corpora/build-answer-sets.sh`): a folder with
/// `docs.jsonl` (the knowledge base, kb's document format) and `questions.jsonl`, one question per line:
/// `{"id", "question", "answers": [str], "evidence": [document id], "answerable", "split", "kind", "lang"}`.
public struct AnswerQuestionSet: Sendable {
    /// One question with its gold data.
    public struct Question: Sendable, Codable, Equatable {
        public var id: String
        public var question: String
        /// Short reference answers: the answer is right when one of them, normalised, is in it
        /// (``AnswerScoring/contains(_:anyOf:)``). Empty for questions without a short answer.
        public var answers: [String]
        /// Ids (kb document uris) of the documents that hold the answer.
        public var evidence: [String]
        /// False when the evidence was left out of the base: the right response is to abstain.
        public var answerable: Bool
        /// `dev` (for iterating) or `test` (run once per change).
        public var split: String
        /// The template or source the question came from, e.g. `faq`, `debian-homepage`.
        public var kind: String
        public var lang: String

        public init(id: String, question: String, answers: [String], evidence: [String], answerable: Bool,
                    split: String, kind: String, lang: String) {
            self.id = id
            self.question = question
            self.answers = answers
            self.evidence = evidence
            self.answerable = answerable
            self.split = split
            self.kind = kind
            self.lang = lang
        }
    }

    public var directory: URL
    public var documentsFile: URL { directory.appendingPathComponent("docs.jsonl") }
    public var questions: [Question]

    /// Reads `questions.jsonl`.
    /// - Throws: ``EvaluationError`` naming the file and line that is wrong.
    public init(directory: URL) throws {
        self.directory = directory
        let file = directory.appendingPathComponent("questions.jsonl")
        for path in [directory.appendingPathComponent("docs.jsonl").path, file.path] where !FileManager.default.fileExists(atPath: path) {
            throw EvaluationError.missingFile(path)
        }
        guard let data = FileManager.default.contents(atPath: file.path) else { throw EvaluationError.missingFile(file.path) }
        var questions: [Question] = []
        let decoder = JSONDecoder()
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do {
                questions.append(try decoder.decode(Question.self, from: Data(line.utf8)))
            } catch {
                throw EvaluationError.malformed(file: file.path, line: number + 1,
                                                reason: "expected {\"id\", \"question\", \"answers\", \"evidence\", \"answerable\", \"split\", \"kind\", \"lang\"}")
            }
        }
        guard !questions.isEmpty else { throw EvaluationError.malformed(file: file.path, line: 1, reason: "no questions") }
        self.questions = questions
    }
}
