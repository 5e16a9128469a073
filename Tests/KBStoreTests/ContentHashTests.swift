import XCTest
@testable import KBStore
import KBSupport

final class ContentHashTests: XCTestCase {
    /// FIPS 180-4 test vectors, plus lengths around the 55/56/64-byte padding boundaries
    /// checked against coreutils `sha256sum`.
    func testKnownDigests() {
        XCTAssertEqual(ContentHash.sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(ContentHash.sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(ContentHash.sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(ContentHash.sha256Hex(String(repeating: "a", count: 55)),
                       "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318")
        XCTAssertEqual(ContentHash.sha256Hex(String(repeating: "a", count: 64)),
                       "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
        XCTAssertEqual(ContentHash.sha256Hex("中文"), "72726d8818f693066ceb69afa364218b692e62ea92b385782363780f47529c21")
    }
}
