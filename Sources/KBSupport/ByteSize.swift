import Foundation

/// Sizes written by people: `65536`, `200k`, `64M`, `1.5G` and `64MiB` (binary multiples of 1024),
/// `64MB` and `1GB` (decimal multiples of 1000, as the SI prefixes say), case-insensitive.
/// One parser for every size option of the command line, the environment and the config file.
public enum ByteSize {
    /// The number of bytes `text` says, or nil when it is not a size (negative, not a number, or
    /// too large for an `Int`).
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(suffix: String, factor: Double)] = [
            ("gib", 1_073_741_824), ("mib", 1_048_576), ("kib", 1024),
            ("gb", 1e9), ("mb", 1e6), ("kb", 1e3),
            ("g", 1_073_741_824), ("m", 1_048_576), ("k", 1024), ("b", 1),
        ]
        var number = Substring(trimmed)
        var factor = 1.0
        if let unit = units.first(where: { trimmed.hasSuffix($0.suffix) }) {
            number = number.dropLast(unit.suffix.count)
            factor = unit.factor
        }
        // Digits with at most one decimal point: no sign, exponent, hexadecimal or inf/nan.
        let digits = number.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(digits.count),
              digits.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return nil }
        if factor == 1, let exact = Int(number) { return exact }
        guard let value = Double(number), value.isFinite else { return nil }
        let bytes = (value * factor).rounded(.down)
        guard bytes < 9.2e18 else { return nil }   // below Int.max, where the conversion would trap
        return Int(bytes)
    }
}
