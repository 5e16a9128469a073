import Foundation
import KBSearch
import XCTest

/// How `kb eval answers` scores: reference answers contained, citations against gold evidence.
final class AnswerScoringTests: XCTestCase {
    func testNormalisationAndContainment() {
        XCTAssertEqual(AnswerScoring.normalize("See https://www.GNU.org/software/tar/ !"), "see gnu org software tar")
        XCTAssertTrue(AnswerScoring.contains("Its homepage is http://gnu.org/software/tar.", anyOf: ["https://www.gnu.org/software/tar/"]))
        XCTAssertTrue(AnswerScoring.contains("Debian ships 1.5.4+dfsg2-5 [1].", anyOf: ["1.5.4+dfsg2-5"]))
        XCTAssertFalse(AnswerScoring.contains("Debian ships 1.5.4+dfsg2-50.", anyOf: ["1.5.4+dfsg2-5"]), "word boundaries")
        XCTAssertFalse(AnswerScoring.contains("The tide is higher today.", anyOf: ["high"]))
        XCTAssertTrue(AnswerScoring.contains("It is maintained by Arthur  de Jong.", anyOf: ["Arthur de Jong"]))
        XCTAssertTrue(AnswerScoring.contains("《静夜思》的作者是李白。", anyOf: ["李白"]))
        XCTAssertFalse(AnswerScoring.contains("作者是杜甫。", anyOf: ["李白"]))
        XCTAssertFalse(AnswerScoring.contains("anything", anyOf: []))
        XCTAssertTrue(AnswerScoring.contains("Ｆｕｌｌ width 1.5", anyOf: ["full WIDTH 1.5"]), "NFKC and case")
    }

    func testAnswersThatAreOnlyMarkersOrCopyAnOpeningSentence() {
        XCTAssertTrue(AnswerScoring.isOnlyMarkers("[1]"))
        XCTAssertTrue(AnswerScoring.isOnlyMarkers(" [1][2]. "))
        XCTAssertFalse(AnswerScoring.isOnlyMarkers("Version 1.2 [1]."))
        XCTAssertFalse(AnswerScoring.isOnlyMarkers("The documents do not say."))
        let sources = ["Logrotate rotates the log files every night. Old logs are compressed with gzip.",
                       "The database backup runs at midnight."]
        XCTAssertTrue(AnswerScoring.copiesOpening("Logrotate rotates the log files every night [1].", of: sources))
        XCTAssertTrue(AnswerScoring.copiesOpening("The database backup runs at midnight.", of: sources))
        XCTAssertFalse(AnswerScoring.copiesOpening("Old logs are compressed with gzip [1].", of: sources), "not the opening")
        XCTAssertFalse(AnswerScoring.copiesOpening("At midnight [2].", of: sources), "too short to be a copy")
    }

    private func question(_ id: String, answerable: Bool = true, answers: [String] = ["42"], evidence: [String] = ["doc"]) -> AnswerQuestionSet.Question {
        .init(id: id, question: "?", answers: answers, evidence: evidence, answerable: answerable, split: "dev", kind: "k", lang: "en")
    }

    func testSummaryCountsOnlyWhatEachMetricIsAbout() {
        let observations = [
            // right, fully cited, one citation of the evidence and one of another document
            AnswerScoring.Observation(question: question("a"), answer: "It is 42 [1].", abstained: false, claimSentences: 2,
                                      citedSentences: 2, citedDocuments: ["doc", "other"], evidenceRetrieved: true,
                                      timeToFirstToken: 1, totalSeconds: 2),
            // wrong, uncited
            AnswerScoring.Observation(question: question("b"), answer: "It is 41.", abstained: false, claimSentences: 1,
                                      citedSentences: 0, citedDocuments: [], evidenceRetrieved: false,
                                      timeToFirstToken: 3, totalSeconds: 4),
            // no reference answer: citations count, accuracy does not
            AnswerScoring.Observation(question: question("c", answers: []), answer: "Use a loop.", abstained: true,
                                      claimSentences: 1, citedSentences: 1, citedDocuments: ["doc"], evidenceRetrieved: true,
                                      timeToFirstToken: nil, totalSeconds: 6),
            // unanswerable and abstained; its citations are not scored for precision
            AnswerScoring.Observation(question: question("d", answerable: false), answer: "The documents do not say.",
                                      abstained: true, claimSentences: 0, citedSentences: 0, citedDocuments: ["x"],
                                      evidenceRetrieved: false, timeToFirstToken: 2, totalSeconds: 2),
        ]
        let summary = AnswerScoring.summarize(observations)
        XCTAssertEqual(summary.questions, 4)
        XCTAssertEqual(summary.scoredQuestions, 2)
        XCTAssertEqual(summary.accuracy, 0.5)
        XCTAssertEqual(summary.citationCoverage, 3.0 / 4.0)
        XCTAssertEqual(summary.citations, 3)
        XCTAssertEqual(summary.citationPrecision, 2.0 / 3.0)
        XCTAssertEqual(summary.abstention, 1)
        XCTAssertEqual(summary.unanswerableQuestions, 1)
        XCTAssertEqual(summary.falseAbstention, 1.0 / 3.0)
        XCTAssertEqual(summary.evidenceRecall, 2.0 / 3.0)
        XCTAssertEqual(summary.medianTimeToFirstToken, 2)
        XCTAssertEqual(summary.medianTotalSeconds, 3)
    }

    func testAQuestionSetNamesTheLineThatIsWrong() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kb-answer-set-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        XCTAssertThrowsError(try AnswerQuestionSet(directory: directory)) { error in
            XCTAssertEqual(error as? EvaluationError, .missingFile(directory.appendingPathComponent("docs.jsonl").path))
        }
        try Data().write(to: directory.appendingPathComponent("docs.jsonl"))
        let good = #"{"id": "q", "question": "?", "answers": [], "evidence": ["d"], "answerable": true, "split": "dev", "kind": "faq", "lang": "en"}"#
        try Data((good + "\n{\"id\": 3}\n").utf8).write(to: directory.appendingPathComponent("questions.jsonl"))
        XCTAssertThrowsError(try AnswerQuestionSet(directory: directory)) { error in
            guard case .malformed(_, let line, _)? = error as? EvaluationError else { return XCTFail("\(error)") }
            XCTAssertEqual(line, 2)
        }
        try Data((good + "\n").utf8).write(to: directory.appendingPathComponent("questions.jsonl"))
        XCTAssertEqual(try AnswerQuestionSet(directory: directory).questions.map(\.id), ["q"])
    }
}
