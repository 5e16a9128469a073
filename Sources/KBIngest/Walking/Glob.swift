/// A shell-style path pattern for `--include` and `--exclude`: `*` matches within one path component,
/// `**` across components, `?` one character, `[abc]`/`[a-z]`/`[!a]` a set. A pattern without `/`
/// is matched against the file name; one with `/` against the path relative to the walked directory.
public struct Glob: Sendable, CustomStringConvertible {
    public let pattern: String
    private let scalars: [Unicode.Scalar]
    private let matchesBasename: Bool

    public init(_ pattern: String) {
        self.pattern = pattern
        var body = pattern
        if body.hasPrefix("./") { body.removeFirst(2) }
        scalars = Array(body.unicodeScalars)
        matchesBasename = !body.contains("/")
    }

    public var description: String { pattern }

    /// Whether `relativePath` (components separated by `/`) matches.
    public func matches(relativePath: String) -> Bool {
        let subject: Substring
        if matchesBasename, let slash = relativePath.lastIndex(of: "/") {
            subject = relativePath[relativePath.index(after: slash)...]
        } else {
            subject = relativePath[...]
        }
        return Self.match(scalars[...], Array(subject.unicodeScalars)[...])
    }

    private static func match(_ pattern: ArraySlice<Unicode.Scalar>, _ text: ArraySlice<Unicode.Scalar>) -> Bool {
        var p = pattern.startIndex
        var t = text.startIndex
        while p < pattern.endIndex {
            let c = pattern[p]
            switch c {
            case "*":
                let doubleStar = p + 1 < pattern.endIndex && pattern[p + 1] == "*"
                let rest = p + (doubleStar ? 2 : 1)
                // "**/" also matches zero directories.
                if doubleStar && rest < pattern.endIndex && pattern[rest] == "/" {
                    if match(pattern[(rest + 1)...], text[t...]) { return true }
                }
                var i = t
                while true {
                    if match(pattern[rest...], text[i...]) { return true }
                    if i == text.endIndex || (!doubleStar && text[i] == "/") { return false }
                    i += 1
                }
            case "?":
                guard t < text.endIndex, text[t] != "/" else { return false }
                p += 1; t += 1
            case "[":
                guard t < text.endIndex, let (matched, next) = matchSet(pattern, from: p, scalar: text[t]) else {
                    return false
                }
                guard matched else { return false }
                p = next; t += 1
            default:
                guard t < text.endIndex, text[t] == c else { return false }
                p += 1; t += 1
            }
        }
        return t == text.endIndex
    }

    /// Matches `scalar` against the set starting at `from` ("["); returns the result and the index after "]".
    private static func matchSet(_ pattern: ArraySlice<Unicode.Scalar>, from: Int, scalar: Unicode.Scalar) -> (Bool, Int)? {
        var i = from + 1
        var negate = false
        if i < pattern.endIndex && (pattern[i] == "!" || pattern[i] == "^") { negate = true; i += 1 }
        var matched = false
        var first = true
        while i < pattern.endIndex && (pattern[i] != "]" || first) {
            first = false
            if i + 2 < pattern.endIndex && pattern[i + 1] == "-" && pattern[i + 2] != "]" {
                if pattern[i] <= scalar && scalar <= pattern[i + 2] { matched = true }
                i += 3
            } else {
                if pattern[i] == scalar { matched = true }
                i += 1
            }
        }
        guard i < pattern.endIndex else { return nil }   // no closing "]": not a set
        return (matched != negate, i + 1)
    }
}
