import Foundation
import KBSupport

/// The API keys the server accepts. Only SHA-256 digests are kept in memory, and a presented key
/// is compared with every digest in constant time (no early exit on the first differing byte, no
/// dependence on which key matched), so response timing reveals nothing about the keys.
public struct APIKeys: Sendable {
    private let digests: [[UInt8]]

    /// - Parameter keys: the accepted keys; blank entries are ignored.
    public init(_ keys: [String]) {
        digests = keys.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { Array(ContentHash.sha256Hex($0).utf8) }
    }

    /// Keys from a file: one per line; blank lines and lines starting with `#` are ignored.
    /// - Throws: ``ServerConfigurationError`` naming the file when it cannot be read.
    public static func load(file path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ServerConfigurationError("cannot read the API key file \(path)")
        }
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// Keys from a comma-separated environment value.
    public static func parse(list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public var isEmpty: Bool { digests.isEmpty }
    public var count: Int { digests.count }

    /// Whether `candidate` is one of the keys.
    public func accepts(_ candidate: String) -> Bool {
        let digest = Array(ContentHash.sha256Hex(candidate).utf8)
        var matched: UInt8 = 0
        for stored in digests {
            var difference: UInt8 = 0
            for (a, b) in zip(stored, digest) { difference |= a ^ b }
            matched |= difference == 0 ? 1 : 0
        }
        return matched == 1
    }
}
