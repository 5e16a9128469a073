import Foundation
import XCTest
@testable import KBSearch

final class AttributionTests: XCTestCase {
    // MARK: Sentences

    func testEnglishSentencesEndAtPunctuationFollowedBySpace() {
        let text = "Python is a programming language. It was created by Guido van Rossum! Is it fast? Not always."
        XCTAssertEqual(texts(text), ["Python is a programming language.", "It was created by Guido van Rossum!",
                                     "Is it fast?", "Not always."])
    }

    func testDecimalsVersionsFileNamesAndURLsDoNotEndSentences() {
        let text = "Pi is about 3.14 and Python 3.12.1 ships it. Run python setup.py install as "
            + "https://docs.python.org/3/install/index.html says. Done."
        XCTAssertEqual(texts(text), [
            "Pi is about 3.14 and Python 3.12.1 ships it.",
            "Run python setup.py install as https://docs.python.org/3/install/index.html says.",
            "Done.",
        ])
    }

    func testAbbreviationsAndInitialsDoNotEndSentences() {
        let text = "Use a virtual environment, e.g. venv or virtualenv. Mr. Smith lives in the U.S. and writes "
            + "Python, i.e. code. J. R. R. Tolkien wrote it, etc. and more. See fig. 3 for details."
        XCTAssertEqual(texts(text), [
            "Use a virtual environment, e.g. venv or virtualenv.",
            "Mr. Smith lives in the U.S. and writes Python, i.e. code.",
            "J. R. R. Tolkien wrote it, etc. and more.",
            "See fig. 3 for details.",
        ])
    }

    func testChineseSentencesEndWithoutSpaces() {
        let text = "《静夜思》是唐代诗人李白的五言绝句。全诗共二十字！你读过吗？“举头望明月。”低头思故乡"
        XCTAssertEqual(texts(text), ["《静夜思》是唐代诗人李白的五言绝句。", "全诗共二十字！", "你读过吗？",
                                     "“举头望明月。”", "低头思故乡"])
        XCTAssertEqual(AnswerSentences.split(text, final: false).sentences.count, 4)
    }

    func testMarkersBelongToTheSentenceBeforeAndAreLeftOutOfItsText() {
        let text = "The GIL is a mutex [1]. It protects objects. [2][3] Only one thread runs bytecode at a time [1, 3].\nDone.[4] 李白写了这首诗。[3]"
        let sentences = AnswerSentences.split(text, final: true).sentences
        XCTAssertEqual(sentences.map(\.text), ["The GIL is a mutex.", "It protects objects.",
                                               "Only one thread runs bytecode at a time.", "Done.", "李白写了这首诗。"])
        XCTAssertEqual(sentences.map(\.markers), [[1], [2, 3], [1, 3], [4], [3]])
        let scalars = Array(text.unicodeScalars)
        let spans = sentences.map { String(String.UnicodeScalarView(scalars[$0.start..<$0.end])) }
        XCTAssertEqual(spans, ["The GIL is a mutex [1].", "It protects objects. [2][3]",
                               "Only one thread runs bytecode at a time [1, 3].", "Done.[4]", "李白写了这首诗。[3]"])
    }

    func testMarkersAreKeptAsWrittenAndDeduplicated() {
        let sentences = AnswerSentences.split("Yes [2][0][2]. See [page 4] and [1,7].", final: true).sentences
        XCTAssertEqual(sentences.map(\.markers), [[2, 0], [1, 7]])
        XCTAssertEqual(sentences.map(\.text), ["Yes.", "See [page 4] and."])
    }

    func testNewlinesEndListItemsWhoseBulletsAreNotPartOfTheSentence() {
        let text = "Steps:\n- Install the package\n- Run kb ingest [1]\n2. Search the base\n\n## Notes\nDone"
        let sentences = AnswerSentences.split(text, final: true).sentences
        XCTAssertEqual(sentences.map(\.text), ["Steps:", "Install the package", "Run kb ingest", "Search the base",
                                               "## Notes", "Done"])
        XCTAssertEqual(sentences[1].start, 9)
        XCTAssertEqual(sentences[2].markers, [1])
    }

    func testFencedCodeIsOneUnitWithoutMarkers() {
        let code = "```python\nimport os\nprint(os.path.join('a', 'b'))  # [1]. Done. \n```"
        let text = "Run this:\n" + code + "\nIt prints a/b."
        let sentences = AnswerSentences.split(text, final: true).sentences
        XCTAssertEqual(sentences.map(\.text), ["Run this:", code, "It prints a/b."])
        XCTAssertTrue(sentences[1].isCode)
        XCTAssertEqual(sentences[1].markers, [])
        // An unclosed fence is unfinished while streaming.
        let open = AnswerSentences.split("Run this:\n```python\nimport os\n", final: false)
        XCTAssertEqual(open.sentences.map(\.text), ["Run this:"])
        XCTAssertEqual(open.consumed, 10)
    }

    func testStreamingNeverReturnsTheUnfinishedTail() {
        let partial = AnswerSentences.split("The GIL is a mutex. It prot", final: false)
        XCTAssertEqual(partial.sentences.map(\.text), ["The GIL is a mutex."])
        XCTAssertEqual(partial.consumed, 20)
        // Each of these could still change: "3." may be "3.12", a marker may follow the period.
        for text in ["Install Python 3.", "The GIL is a mutex. ", "The GIL is a mutex. [1", "The GIL is a mutex.", "李白写了这首诗。"] {
            let result = AnswerSentences.split(text, final: false)
            XCTAssertEqual(result.sentences, [], text)
            XCTAssertEqual(result.consumed, 0, text)
        }
        // Final, the rest is a sentence; "[1" without its bracket is text, not a marker.
        XCTAssertEqual(texts("Install Python 3."), ["Install Python 3."])
        XCTAssertEqual(texts("The GIL is a mutex. [1"), ["The GIL is a mutex.", "[1"])
    }

    func testStreamingTokenByTokenGivesTheSameSentencesAsTheWholeText() {
        let text = """
            Requests is an HTTP library for Python [1]. It supports HTTP/1.1, e.g. keep-alive. [1][2] Version 2.31.0 \
            is in Debian! Is it fast? Mostly.
            - Install it with pip install requests [3]
            1. Read https://requests.readthedocs.io/en/latest/. Then try it.
            ```
            r = requests.get(url)  # [4]
            ```
            《静夜思》是李白写的。[5] 全诗共二十字！ I don't know more.
            """
        let whole = AnswerSentences.split(text, final: true).sentences
        XCTAssertEqual(whole.count, 12)
        let scalars = Array(text.unicodeScalars)
        var random = SplitMix(seed: 7)
        var length = 0
        var consumed = 0
        var collected: [AnswerSentence] = []
        var previousCount = 0
        while length < scalars.count {
            length = min(scalars.count, length + 1 + Int(random.next() % 4))
            let prefix = String(String.UnicodeScalarView(scalars[..<length]))
            let full = AnswerSentences.split(prefix, final: false)
            XCTAssertGreaterThanOrEqual(full.sentences.count, previousCount)
            XCTAssertEqual(full.sentences, Array(whole.prefix(full.sentences.count)), "at \(length)")
            XCTAssertLessThanOrEqual(full.consumed, length)
            previousCount = full.sentences.count
            let resumed = AnswerSentences.split(prefix, from: consumed, final: false)
            XCTAssertGreaterThanOrEqual(resumed.consumed, consumed)
            collected += resumed.sentences
            consumed = resumed.consumed
        }
        collected += AnswerSentences.split(text, from: consumed, final: true).sentences
        XCTAssertEqual(collected, whole)
    }

    // MARK: Spans

    func testSpanOffsetsPointIntoTheDocument() throws {
        let document = "《说明》 🐍 Package: python3-requests\n\nDescription: elegant and simple HTTP library for Python3,\n"
            + " built for human beings. Requests allow you to send HTTP/1.1 requests extremely\n easily, e.g. "
            + "without query strings. There's no need to form-encode your POST data.\n\nHomepage: https://requests.readthedocs.io"
        let documentScalars = Array(document.unicodeScalars)
        let startOffset = 10
        let chunk = String(String.UnicodeScalarView(documentScalars[startOffset...]))
        let source = AttributionSource(marker: 1, documentID: 9, chunkID: 90, text: chunk, startOffset: startOffset)
        let evidence = EvidenceSpans(sources: [source])
        XCTAssertGreaterThanOrEqual(evidence.sentenceCount, 4)
        for span in evidence.spans {
            let range = evidence.documentRange(of: span)
            XCTAssertEqual(String(String.UnicodeScalarView(documentScalars[range])), evidence.text(of: span))
        }
        let attributor = Attributor(sources: [source], embed: nil)
        let sentence = attributor.attribute(answer: "Requests lets you send HTTP/1.1 requests extremely easily.")[0]
        let citation = try XCTUnwrap(sentence.citations.first)
        XCTAssertEqual(String(String.UnicodeScalarView(documentScalars[citation.startOffset..<citation.endOffset])), citation.text)
        XCTAssertTrue(citation.text.hasPrefix("Requests allow you"), citation.text)
        XCTAssertEqual(citation.documentID, 9)
        XCTAssertEqual(citation.chunkID, 90)
    }

    func testAPairOfAdjacentSentencesSupportsAClaimThatJoinsThem() throws {
        let source = AttributionSource(marker: 1, documentID: 1, chunkID: 1, text: "Quiet Night Thought is a five-character "
            + "quatrain about homesickness. It was written by Li Bai during the Tang dynasty. It is widely taught in schools.",
            startOffset: 0)
        let attributor = Attributor(sources: [source], embed: nil)
        let claim = "Li Bai wrote the quatrain Quiet Night Thought during the Tang dynasty."
        let sentence = attributor.attribute(answer: claim)[0]
        let citation = try XCTUnwrap(sentence.citations.first)
        XCTAssertEqual(citation.text, "Quiet Night Thought is a five-character quatrain about homesickness. "
            + "It was written by Li Bai during the Tang dynasty.")
        let scorer = attributor.scorer
        let prepared = scorer.claim(claim, vector: nil)
        let singles = (0..<scorer.evidence.sentenceCount).map { scorer.support(prepared, spanAt: $0, semantic: nil) }
        let bestSingle = try XCTUnwrap(singles.max())
        XCTAssertGreaterThan(citation.support, bestSingle + SupportScorer.pairMargin)
        XCTAssertLessThan(bestSingle, attributor.threshold)
        XCTAssertGreaterThanOrEqual(citation.support, attributor.threshold)
    }

    // MARK: Verification

    func testCorrectModelMarkerIsKept() {
        let sentence = attributor().attribute(answer: "The GIL makes sure that only one thread runs in the Python VM at a time [2].")[0]
        XCTAssertEqual(sentence.citations.map(\.marker), [2])
        XCTAssertEqual(sentence.citations.first?.origin, .model)
        XCTAssertEqual(sentence.citations.first?.verified, true)
        XCTAssertEqual(sentence.droppedMarkers, [])
        XCTAssertTrue(sentence.supported)
        XCTAssertTrue(sentence.needsSupport)
    }

    func testMarkerOfAMissingSourceIsDroppedAndKBCitesTheSentence() {
        let sentence = attributor().attribute(answer: "htop lets you scroll the process list vertically and horizontally [7].")[0]
        XCTAssertEqual(sentence.droppedMarkers, [7])
        XCTAssertEqual(sentence.citations.map(\.marker), [4])
        XCTAssertEqual(sentence.citations.first?.origin, .kb)
        XCTAssertNil(sentence.citations.first?.replacedMarker)
    }

    func testWrongMarkerMovesToTheSupportingSource() {
        let sentence = attributor().attribute(answer: "Requests lets you send HTTP/1.1 requests extremely easily [2].")[0]
        XCTAssertEqual(sentence.citations.map(\.marker), [1])
        XCTAssertEqual(sentence.citations.first?.origin, .kb)
        XCTAssertEqual(sentence.citations.first?.replacedMarker, 2)
        XCTAssertEqual(sentence.droppedMarkers, [])
        XCTAssertTrue(sentence.supported)
    }

    func testUncitedSupportedSentenceGetsAKBCitation() {
        let sentence = attributor().attribute(answer: "Python switches between threads only between bytecode instructions.")[0]
        XCTAssertEqual(sentence.citations.map(\.marker), [2])
        XCTAssertEqual(sentence.citations.first?.origin, .kb)
        XCTAssertNil(sentence.citations.first?.replacedMarker)
        XCTAssertTrue(sentence.citations.first?.text.hasPrefix("In general, Python offers to switch") ?? false)
        XCTAssertTrue(sentence.supported)
    }

    func testClaimInNoSourceGetsNoCitationAndIsUnsupported() {
        let attributed = attributor().attribute(answer: "The Requests library was rewritten in Rust in 1995. "
            + "The GIL was removed in Python 2.0 [2].")
        XCTAssertEqual(attributed.count, 2)
        for sentence in attributed {
            XCTAssertEqual(sentence.citations, [], sentence.text)
            XCTAssertFalse(sentence.supported)
            XCTAssertTrue(sentence.needsSupport)
        }
        XCTAssertEqual(attributed[1].droppedMarkers, [2])
    }

    func testWordsThatRepeatTheQuestionNeedNoSupport() {
        let debian = AttributionSource(marker: 1, documentID: 7, chunkID: 70, text: """
            Package: dictconv
            Version: 0.2-7.2
            Maintainer: Francesco Namuri <francesco@namuri.it>

            convert a dictionary file type to another dictionary file type
            """, startOffset: 0)
        let answer = "The person who maintains dictconv for the Debian project is Francesco Namuri [1]."
        let blind = Attributor(sources: [debian, tangPoem], embed: nil).attribute(answer: answer)[0]
        XCTAssertFalse(blind.supported, "person, project and Debian are in no source")
        let asked = Attributor(sources: [debian, tangPoem], embed: nil,
                               question: "Which person or team maintains dictconv in the Debian project?").attribute(answer: answer)[0]
        XCTAssertTrue(asked.supported, "what the answer adds to the question (the name) is in the source")
        XCTAssertEqual(asked.citations.map(\.origin), [.model])
        // Repeating the question does not support a wrong value.
        let wrong = Attributor(sources: [debian, tangPoem], embed: nil,
                               question: "Which person or team maintains dictconv in the Debian project?")
            .attribute(answer: "The person who maintains dictconv for the Debian project is Ritesh Raj Sarraf [1].")[0]
        XCTAssertFalse(wrong.supported)
        XCTAssertEqual(wrong.droppedMarkers, [1])
    }

    func testANearMissRecordDoesNotSupportAClaimAboutAnotherSubject() {
        let dictconv = AttributionSource(marker: 1, documentID: 7, chunkID: 70, text: """
            Package: dictconv
            Version: 0.2-7.2
            Maintainer: Francesco Namuri <francesco@namuri.it>

            convert a dictionary file type to another dictionary file type
            """, startOffset: 0)
        let dico = AttributionSource(marker: 2, documentID: 8, chunkID: 80, text: """
            Package: dico
            Version: 2.11-3
            Maintainer: Ritesh Raj Sarraf <rrs@debian.org>

            RFC 2229 compliant modular dictionary server
            """, startOffset: 0)
        let attributor = Attributor(sources: [dictconv, dico], embed: nil,
                                    question: "Which person or team maintains dictconv in Debian?")
        let wrong = attributor.attribute(answer: "Dictconv is maintained by Ritesh Raj Sarraf [2].")[0]
        XCTAssertFalse(wrong.supported, "dico's record names its own maintainer, not dictconv's: \(wrong.citations)")
        let right = attributor.attribute(answer: "Dictconv is maintained by Francesco Namuri [2].")[0]
        XCTAssertEqual(right.citations.map(\.marker), [1], "the marker moves to the record that says it")
        XCTAssertEqual(right.citations.first?.replacedMarker, 2)
    }

    func testASentenceThatOnlyRestatesTheQuestionClaimsNothing() {
        let record = AttributionSource(marker: 1, documentID: 3, chunkID: 30, text: """
            Package: kdegames-card-data-kf5
            Version: 4:22.12.3-1
            Section: games
            """, startOffset: 0)
        let attributor = Attributor(sources: [record], embed: nil,
                                    question: "What version of the package sumatra is in Debian 12 (bookworm)?")
        let sentence = attributor.attribute(answer: "The package sumatra is in Debian 12 (bookworm) [1].")[0]
        XCTAssertFalse(sentence.needsSupport)
        XCTAssertEqual(sentence.citations, [])
        XCTAssertEqual(sentence.droppedMarkers, [1])
        // Without the question, the same sentence is a claim (and the record does not support it).
        XCTAssertTrue(Attributor(sources: [record], embed: nil).attribute(answer: "The package sumatra is in Debian 12 (bookworm).")[0].needsSupport)
    }

    func testAValueTheSpanDoesNotHoldIsNotSupportedByIt() {
        let appstream = AttributionSource(marker: 1, documentID: 5, chunkID: 50, text: """
            Package: appstream-glib-doc
            Maintainer: Matthias Klumpp <mak@debian.org>
            Homepage: https://github.com/hughsie/appstream-glib
            """, startOffset: 0)
        let question = "What is the homepage of the Debian package gr-iqbal?"
        let invented = Attributor(sources: [appstream, tangPoem], embed: nil, question: question)
            .attribute(answer: "The homepage of gr-iqbal is https://github.com/hughsie/gr-iqbal [1].")[0]
        XCTAssertFalse(invented.supported, "\(invented.citations)")
        XCTAssertEqual(invented.droppedMarkers, [1])
        let copied = Attributor(sources: [appstream, tangPoem], embed: nil, question: "What is the homepage of appstream-glib-doc?")
            .attribute(answer: "The homepage of appstream-glib-doc is https://github.com/hughsie/appstream-glib [1].")[0]
        XCTAssertTrue(copied.supported)
    }

    func testAQuotedPhraseIsMatchedVerbatimAcrossLanguages() {
        let entry = AttributionSource(marker: 1, documentID: 9, chunkID: 90, text: "简体：减小\n繁体：減小\n拼音：jian3 xiao3\n英文：to reduce; to decrease",
                                      startOffset: 0)
        let other = AttributionSource(marker: 2, documentID: 10, chunkID: 100, text: "简体：减少\n拼音：jian3 shao3\n英文：to lessen",
                                      startOffset: 0)
        XCTAssertEqual(SupportTerms.quotedPhrases("The English of “减小” is “to reduce.” and \"x\"").map { String(String.UnicodeScalarView($0)) },
                       ["减小", "to reduce", "x"])
        let attributor = Attributor(sources: [entry, other], embed: nil, question: "“减小”用英文怎么说？")
        let sentence = attributor.attribute(answer: "The English translation of “减小” is “to reduce.” [1]")[0]
        XCTAssertTrue(sentence.supported, "\(sentence)")
        XCTAssertEqual(sentence.citations.map(\.marker), [1])
        let wrong = attributor.attribute(answer: "The English translation of “减小” is “to lessen.” [2]")[0]
        XCTAssertFalse(wrong.supported, "减少's entry says to lessen, not 减小's")
    }

    func testChineseSentenceIsAttributedByCharacterBigrams() {
        let sentence = attributor().attribute(answer: "李白的《静夜思》描写了诗人望月思念家乡。")[0]
        XCTAssertEqual(sentence.citations.map(\.marker), [3])
        XCTAssertTrue(sentence.supported)
        // 李白 and 静夜思 are in the first sentence, the rest in the second: the pair supports it.
        XCTAssertEqual(sentence.citations.first?.text, "《静夜思》是唐代诗人李白创作的一首五言绝句。此诗描写了秋日夜晚，旅居在外的诗人抬头望月而思念家乡。")
        // The run 描写了诗人望月思念家乡 appears nowhere whole: only its bigrams match.
        XCTAssertFalse(tangPoem.text.contains("描写了诗人望月思念家乡"))
    }

    func testSentencesThatMakeNoClaimNeedNoSupport() {
        let answer = "Hello! Yes. I don't know. The knowledge base does not contain this. 知识库中没有相关信息。\n[1]\n## Notes\n"
            + "Here is how:\n```\npip install requests\n```\nhtop shows all processes with their full command lines."
        let attributed = attributor().attribute(answer: answer)
        XCTAssertEqual(attributed.map(\.needsSupport), [false, false, false, false, false, false, false, false, false, true])
        XCTAssertEqual(attributed.last?.citations.map(\.marker), [4])
        XCTAssertEqual(attributed[5].text, "")
        XCTAssertEqual(attributed[5].droppedMarkers, [1])
    }

    func testSecondKBCitationOnlyWhenCloseToTheFirst() {
        let sources = [
            AttributionSource(marker: 1, documentID: 1, chunkID: 1, text: "htop is an interactive process viewer for Unix systems.", startOffset: 0),
            AttributionSource(marker: 2, documentID: 2, chunkID: 2, text: "The htop package provides an interactive process viewer for Unix.", startOffset: 0),
            AttributionSource(marker: 3, documentID: 3, chunkID: 3, text: "htop is written in C.", startOffset: 0),
        ]
        let sentence = Attributor(sources: sources, embed: nil).attribute(answer: "htop is an interactive process viewer for Unix.")[0]
        XCTAssertEqual(Set(sentence.citations.map(\.marker)), [1, 2])
        XCTAssertTrue(sentence.citations.allSatisfy { $0.origin == .kb && $0.verified })
        XCTAssertGreaterThanOrEqual(sentence.citations[0].support, sentence.citations[1].support)
    }

    func testDefaultThresholdSeparatesLabelledExamples() {
        let attributor = attributor()
        let supported = [
            "Requests is a simple HTTP library for Python.",
            "There is no need to add query strings to URLs by hand.",
            "This package has the Python 3 version of Requests.",
            "The GIL ensures only one thread runs in the Python VM at a time.",
            "You can set how often Python switches threads with sys.setswitchinterval().",
            "htop is a process viewer similar to top.",
            "With htop you can kill or renice processes without entering their PIDs.",
            "htop shows the full command lines of all processes.",
            "《静夜思》是李白创作的五言绝句。",
            "全诗为：床前明月光，疑是地上霜。",
            "这首诗写的是诗人望月思念家乡。",
            // Paraphrases: new words, the same facts.
            "Requests makes sending HTTP/1.1 requests very easy.",
            "You do not have to form-encode POST data yourself.",
            "htop can scroll through the process list horizontally as well as vertically.",
            "Thread switches happen only between bytecode instructions.",
            "The interpreter uses a global lock so that one thread at a time runs in the VM.",
            "诗人在秋天的夜晚望着月亮，思念家乡。",
            "Debian's package for Requests is the Python 3 version.",
        ]
        let unsupported = [
            "Requests was first released in 2011 by Kenneth Reitz.",
            "The GIL was removed entirely in Python 3.13.",
            "htop needs root privileges to display memory usage.",
            "Python threads always run on separate CPU cores.",
            "You should use asyncio instead of threads for network servers.",
            "《静夜思》是杜甫在安史之乱时写的七言律诗。",
            "李白还写了《将进酒》和《蜀道难》。",
            "Debian ships curl as the default download tool.",
            // On the topic, with many of the sources' words, but a fact they do not state.
            "Requests supports HTTP/2 and HTTP/3 out of the box.",
            "htop can also show network traffic per process.",
            "Python switches threads every 100 bytecode instructions.",
            "李白写《静夜思》时住在长安。",
            "The htop package was written by Hisham Muhammad.",
        ]
        let threshold = attributor.threshold
        for text in supported {
            let best = bestSupport(attributor, text)
            XCTAssertGreaterThanOrEqual(best, threshold, "\(text): \(best)")
        }
        for text in unsupported {
            let best = bestSupport(attributor, text)
            XCTAssertLessThan(best, threshold, "\(text): \(best)")
        }
    }

    // MARK: Embeddings

    func testEmbedderRunsOnceForSpansAndChangesScores() throws {
        let calls = CallLog()
        let embed: @Sendable ([String]) throws -> [[Float]] = { texts in
            calls.record(texts.count)
            return texts.map(hashedBagOfWords)
        }
        let withEmbedder = Attributor(sources: sources, embed: embed)
        withEmbedder.prepare()
        withEmbedder.prepare()
        let spanCount = withEmbedder.scorer.evidence.sentenceCount
        XCTAssertEqual(calls.counts, [spanCount])

        let sentence = AnswerSentences.split("htop is a process viewer similar to top.", final: true).sentences[0]
        let embedded = withEmbedder.attribute(sentence, index: 0)
        let lexical = attributor().attribute(sentence, index: 0)
        XCTAssertEqual(calls.counts, [spanCount, 1], "spans embedded once, then the sentence once")
        XCTAssertEqual(embedded.citations.map(\.marker), [4])
        XCTAssertEqual(lexical.citations.map(\.marker), [4])
        // support = 0.85 · lexical + 0.15 · clamp((cos − c̄) / (1 − c̄), 0, 1), c̄ the mean cosine to the sources' sentences
        let lexicalSupport = try XCTUnwrap(lexical.citations.first?.support)
        let vector = hashedBagOfWords(sentence.text)
        func cosine(_ text: String) -> Double { Double(zip(vector, hashedBagOfWords(text)).reduce(0) { $0 + $1.0 * $1.1 }) }
        let texts = withEmbedder.scorer.evidence.sentenceTexts
        let baseline = texts.map(cosine).reduce(0, +) / Double(texts.count)
        let semantic = min(1, max(0, (cosine(embedded.citations[0].text) - baseline) / (1 - baseline)))
        XCTAssertGreaterThan(semantic, 0)
        XCTAssertEqual(embedded.citations[0].support, 0.85 * lexicalSupport + 0.15 * semantic, accuracy: 1e-5)
        XCTAssertNotEqual(embedded.citations[0].support, lexicalSupport)
    }

    func testFailingEmbedderFallsBackToLexicalScores() {
        struct Unavailable: Error {}
        let failing = Attributor(sources: sources, embed: { _ in throw Unavailable() })
        let answer = "The GIL makes sure that only one thread runs in the Python VM at a time [2]. htop is like top."
        XCTAssertEqual(failing.attribute(answer: answer), attributor().attribute(answer: answer))
    }

    // MARK: Format

    func testJSONUsesSnakeCaseKeys() throws {
        let sentence = attributor().attribute(answer: "Requests lets you send HTTP/1.1 requests extremely easily [2][9].")[0]
        let json = String(decoding: try JSONEncoder().encode(sentence), as: UTF8.self)
        for key in ["\"dropped_markers\"", "\"needs_support\"", "\"replaced_marker\"", "\"start_offset\"", "\"end_offset\"",
                    "\"document_id\"", "\"chunk_id\"", "\"origin\":\"kb\""] {
            XCTAssertTrue(json.contains(key), "\(key) in \(json)")
        }
        XCTAssertEqual(try JSONDecoder().decode(AttributedSentence.self, from: Data(json.utf8)), sentence)
    }

    func testStemmingJoinsInflections() {
        XCTAssertEqual(SupportTerms.stem("packages"), SupportTerms.stem("package"))
        XCTAssertEqual(Set(["provides", "provided", "providing", "provide"].map(SupportTerms.stem)).count, 1)
        XCTAssertEqual(SupportTerms.stem("libraries"), SupportTerms.stem("library"))
        XCTAssertNotEqual(SupportTerms.stem("class"), SupportTerms.stem("clas"))
    }

    func testExactTokensAreNumbersNamesAndIdentifiers() {
        let tokens = SupportTerms.exactTokens("Use setup.py with Python 3.12 from https://docs.python.org/3/ as Guido said, not the docs.")
            .map { String(String.UnicodeScalarView($0)) }
        XCTAssertEqual(tokens, ["setup.py", "python", "3.12", "https://docs.python.org/3/", "guido"])
    }

    // MARK: Fixtures

    private let tangPoem = AttributionSource(marker: 3, documentID: 30, chunkID: 300, text: """
        《静夜思》是唐代诗人李白创作的一首五言绝句。此诗描写了秋日夜晚，旅居在外的诗人抬头望月而思念家乡。\
        全诗为：床前明月光，疑是地上霜。举头望明月，低头思故乡。
        """, startOffset: 12)

    private var sources: [AttributionSource] {
        [
            AttributionSource(marker: 1, documentID: 10, chunkID: 100, text: """
                Requests is an elegant and simple HTTP library for Python, built for human beings. It allows you to \
                send HTTP/1.1 requests extremely easily.
                 There is no need to manually add query strings to your URLs, or to form-encode your POST data.
                 This package contains the Python 3 version of the library.
                """, startOffset: 40),
            AttributionSource(marker: 2, documentID: 20, chunkID: 200, text: """
                The global interpreter lock (GIL) is used internally to ensure that only one thread runs in the Python \
                VM at a time. In general, Python offers to switch among threads only between bytecode instructions; \
                how frequently it switches can be set via sys.setswitchinterval().
                """, startOffset: 0),
            tangPoem,
            AttributionSource(marker: 4, documentID: 40, chunkID: 400, text: """
                htop is an ncurses-based process viewer similar to top, but it allows one to scroll the list \
                vertically and horizontally to see all processes and their full command lines.
                Tasks related to processes (killing, renicing) can be done without entering their PIDs.
                """, startOffset: 5),
        ]
    }

    private func attributor() -> Attributor { Attributor(sources: sources, embed: nil) }

    private func texts(_ text: String) -> [String] { AnswerSentences.split(text, final: true).sentences.map(\.text) }

    private func bestSupport(_ attributor: Attributor, _ text: String) -> Double {
        let claim = attributor.scorer.claim(text, vector: nil)
        return attributor.scorer.bestSpans(for: claim, vectors: nil).compactMap { $0?.support }.max() ?? 0
    }
}

/// Counts embedder calls (their batch sizes), from any thread.
private final class CallLog: @unchecked Sendable {
    private let lock = NSLock()
    private var batches: [Int] = []
    func record(_ count: Int) { lock.lock(); batches.append(count); lock.unlock() }
    var counts: [Int] { lock.lock(); defer { lock.unlock() }; return batches }
}

/// A deterministic stand-in for a sentence embedder: lowercased words (and CJK characters) hashed
/// into 64 dimensions, with a few synonyms sharing one, normalized.
private func hashedBagOfWords(_ text: String) -> [Float] {
    let synonyms = ["wrote": "write", "written": "write", "author": "write", "writer": "write"]
    var vector = [Float](repeating: 0, count: 64)
    for word in text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
        let key = synonyms[String(word)] ?? String(word)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        vector[Int(hash % 64)] += 1
    }
    let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return norm > 0 ? vector.map { $0 / norm } : vector
}

/// SplitMix64, for deterministic token sizes.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
