/// The Unicode classes the BPE pre-tokenizer regexes use: `\p{L}`, `\p{N}` and `\s`.
///
/// Letters are the general categories L*, numbers N*, whitespace the White_Space property (the set
/// llama.cpp, Python and Rust regexes use for `\s`; `\u{85}` and `\u{A0}` included).
struct ScalarClass: OptionSet, Sendable {
    let rawValue: UInt8

    static let letter = ScalarClass(rawValue: 1)
    static let number = ScalarClass(rawValue: 2)
    static let whitespace = ScalarClass(rawValue: 4)

    /// The classes of one scalar.
    init(_ scalar: Unicode.Scalar) {
        let value = scalar.value
        if value < 128 {
            self = Self.ascii[Int(value)]
            return
        }
        var classes: ScalarClass = []
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            classes.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            classes.insert(.number)
        default:
            break
        }
        if Self.isWhitespace(value) { classes.insert(.whitespace) }
        self = classes
    }

    init(rawValue: UInt8) { self.rawValue = rawValue }

    /// White_Space: U+0009-000D, U+0020, U+0085, U+00A0, U+1680, U+2000-200A, U+2028, U+2029,
    /// U+202F, U+205F, U+3000.
    private static func isWhitespace(_ value: UInt32) -> Bool {
        switch value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    /// The classes of the ASCII scalars, looked up without Unicode tables.
    private static let ascii: [ScalarClass] = (0..<128).map { value in
        switch value {
        case 0x41...0x5A, 0x61...0x7A: .letter
        case 0x30...0x39: .number
        case 0x09...0x0D, 0x20: .whitespace
        default: []
        }
    }
}
