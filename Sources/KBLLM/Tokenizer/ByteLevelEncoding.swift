/// GPT-2's byte-level encoding: every byte as one printable Unicode scalar, so that a byte-level
/// BPE vocabulary can be stored as text (a space is `Ġ`, a newline `Ċ`).
///
/// Bytes that are printable Latin-1 (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) stand for themselves; the other 68
/// bytes map, in byte order, to U+0100, U+0101, … (GPT-2's `bytes_to_unicode`).
public enum ByteLevelEncoding {
    /// The scalar that stands for each byte (256 entries, indexed by byte).
    public static let scalars: [Unicode.Scalar] = {
        var result = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte) {
                result[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                result[byte] = Unicode.Scalar(next).unsafelyUnwrapped  // 256...323: valid scalars
                next += 1
            }
        }
        return result
    }()

    /// The byte each encoding scalar stands for, indexed by scalar value (0..<324; other entries -1).
    private static let bytesByScalar: [Int16] = {
        var result = [Int16](repeating: -1, count: 324)
        for (byte, scalar) in scalars.enumerated() { result[Int(scalar.value)] = Int16(byte) }
        return result
    }()

    /// `bytes` written as byte-level text.
    public static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var text = String.UnicodeScalarView()
        for byte in bytes { text.append(scalars[Int(byte)]) }
        return String(text)
    }

    /// The bytes of byte-level `text`; a scalar outside the encoding contributes its own UTF-8
    /// bytes (only malformed vocabularies have such tokens).
    public static func decode(_ text: String, into bytes: inout [UInt8]) {
        for scalar in text.unicodeScalars {
            let value = Int(scalar.value)
            if value < bytesByScalar.count, bytesByScalar[value] >= 0 {
                bytes.append(UInt8(bytesByScalar[value]))
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
    }
}
