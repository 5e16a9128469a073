/// Turns file bytes into text: strips a UTF-8 byte-order mark, repairs invalid UTF-8 with U+FFFD
/// (counting the repairs so the caller can warn), refuses binary data, and normalises line endings.
public enum TextDecoding {
    /// Decoded text and the number of invalid byte sequences that were replaced.
    public struct Decoded: Sendable, Equatable {
        public var text: String
        public var repairedSequences: Int
    }

    /// Bytes inspected for NUL when deciding whether a file is binary.
    static let binarySniffLength = 8192

    /// True if the first bytes contain a NUL byte, the mark of binary files (UTF-16 included).
    public static func looksBinary(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.prefix(binarySniffLength).contains(0)
    }

    /// Decodes UTF-8 bytes.
    /// - Parameter strict: throw ``ReadError/invalidUTF8(invalidSequences:)`` instead of repairing.
    /// - Throws: ``ReadError/binary`` for NUL bytes; ``ReadError/invalidUTF8(invalidSequences:)`` in strict mode.
    public static func decode(_ bytes: UnsafeRawBufferPointer, strict: Bool) throws -> Decoded {
        if looksBinary(bytes) { throw ReadError.binary }
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        let view = UnsafeRawBufferPointer(rebasing: body)
        var repaired = 0
        var text: String
        if let valid = String(validating: view, as: UTF8.self) {
            text = valid
        } else {
            repaired = countInvalidSequences(view)
            if strict { throw ReadError.invalidUTF8(invalidSequences: repaired) }
            text = String(decoding: view, as: UTF8.self)
        }
        if text.utf8.contains(UInt8(ascii: "\r")) {
            text = text.replacingCRLF()
        }
        return Decoded(text: text, repairedSequences: repaired)
    }

    /// Number of maximal invalid subsequences (each becomes one U+FFFD when decoded).
    static func countInvalidSequences(_ bytes: UnsafeRawBufferPointer) -> Int {
        var count = 0
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: break loop
            case .error: count += 1
            }
        }
        return count
    }
}

extension String {
    /// `\r\n` and lone `\r` become `\n`.
    func replacingCRLF() -> String {
        var out = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in unicodeScalars {
            if scalar == "\r" {
                out.append("\n")
                previousWasCR = true
                continue
            }
            if scalar == "\n" && previousWasCR { previousWasCR = false; continue }
            previousWasCR = false
            out.append(scalar)
        }
        return String(out)
    }
}
