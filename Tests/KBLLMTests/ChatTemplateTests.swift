import Foundation
import XCTest
@testable import KBLLM

/// Holds ``ChatTemplate`` to the models' own Jinja templates rendered by Python's jinja2
/// (`Fixtures/chat-templates.json`, made by scripts/fixtures/make_chat_fixture.py).
final class ChatTemplateTests: XCTestCase {
    struct Reference: Decodable {
        struct Model: Decodable {
            let file: String
            let cases: [Case]
        }
        struct Case: Decodable {
            let messages: [ChatMessage]
            let addGenerationPrompt: Bool
            let prompt: String
        }
        let models: [Model]
    }

    func testRendersExactlyWhatTheModelsJinjaTemplatesRender() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: try GGUFReference.fixturePath("chat-templates.json")))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        XCTAssertEqual(reference.models.count, 2)
        for model in reference.models {
            let template = try ChatTemplate(metadata: try ModelFiles.open(model.file).metadata)
            XCTAssertEqual(template.format, .chatML, model.file)
            XCTAssertGreaterThanOrEqual(model.cases.count, 8)
            for (index, sample) in model.cases.enumerated() {
                let prompt = try template.render(sample.messages, addGenerationPrompt: sample.addGenerationPrompt)
                XCTAssertEqual(prompt, sample.prompt, "\(model.file) case \(index)")
            }
        }
    }

    func testDefaultSystemPromptsComeFromTheTemplates() throws {
        let qwen = try ChatTemplate(metadata: try ModelFiles.open("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf").metadata)
        XCTAssertEqual(qwen.defaultSystemPrompt, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
        let smol = try ChatTemplate(metadata: try ModelFiles.open("smollm2-135m-instruct-q4_1.gguf").metadata)
        XCTAssertEqual(smol.defaultSystemPrompt, "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
    }

    func testPlainChatMLHasNoDefaultSystemPrompt() throws {
        // llama.cpp's built-in ChatML template.
        let source = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] "
            + "+ '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
        let template = try ChatTemplate(jinja: source)
        XCTAssertNil(template.defaultSystemPrompt)
        XCTAssertEqual(try template.render([.user("Hi")]), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(ChatTemplate.literalSystemPrompt(in: "'<|im_start|>system\\nIt\\'s me<|im_end|>\\n'"), "It's me")
    }

    func testAnUnknownTemplateIsAClearError() {
        let llama3 = "{% set loop_messages = messages %}{% for message in loop_messages %}"
            + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' %}{% endfor %}"
        XCTAssertThrowsError(try ChatTemplate(jinja: llama3, file: "llama3.gguf")) { error in
            guard case ChatTemplateError.unknownTemplate(let file, let excerpt) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(file, "llama3.gguf")
            XCTAssert(excerpt.hasPrefix("{% set loop_messages"))
            XCTAssert("\(error)".contains("unknown chat template"), "\(error)")
        }
    }

    func testAnEmptyConversationIsRejected() {
        XCTAssertThrowsError(try ChatTemplate.chatML.render([])) { error in
            XCTAssertEqual(error as? ChatTemplateError, .noMessages)
        }
    }
}
