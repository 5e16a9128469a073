import Foundation

/// The headings enclosing a chunk, outermost first, stored as a JSON array of strings.
public enum HeadingPath {
    /// JSON text for `headings`.
    public static func encode(_ headings: [String]) -> String {
        guard !headings.isEmpty,
              let data = try? JSONSerialization.data(withJSONObject: headings, options: [.withoutEscapingSlashes])
        else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The headings in stored JSON text; an unreadable value yields no headings.
    public static func decode(_ json: String) -> [String] {
        guard json != "[]", let array = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String] else {
            return []
        }
        return array
    }
}
