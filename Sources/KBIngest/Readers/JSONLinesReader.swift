import Foundation

/// JSON Lines: one document per line, `{"id", "title", "text", "url"?, "metadata"?}` (see
/// `schemas/document.schema.json`). `_id` is accepted for `id` so BEIR corpora ingest as they are.
/// Blank lines are ignored; a malformed line is reported with its line number and the rest is read.
public enum JSONLinesReader {
    /// A parsed line: the document's id and the document.
    public struct Record: Sendable, Equatable {
        public var id: String
        public var document: ParsedDocument
    }

    /// Parses one line.
    /// - Throws: ``ReadError/malformedRecord(_:)`` saying what is wrong with the line.
    public static func parse(line: UnsafeRawBufferPointer) throws -> Record {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(line), options: [])
        } catch {
            throw ReadError.malformedRecord("invalid JSON (\(briefJSONError(error)))")
        }
        guard let fields = object as? [String: Any] else {
            throw ReadError.malformedRecord("expected a JSON object")
        }
        let id: String
        switch fields["id"] ?? fields["_id"] {
        case let string as String where !string.isEmpty: id = string
        case let number as NSNumber where !isBoolean(number) && number.doubleValue.rounded() == number.doubleValue
                                          && abs(number.doubleValue) < 1e15:
            id = String(Int64(number.doubleValue))
        case nil: throw ReadError.malformedRecord("missing required field \"id\"")
        default: throw ReadError.malformedRecord("field \"id\" must be a non-empty string or an integer")
        }
        guard let textValue = fields["text"] else { throw ReadError.malformedRecord("missing required field \"text\"") }
        guard let text = textValue as? String else { throw ReadError.malformedRecord("field \"text\" must be a string") }
        let title = try optionalString(fields, "title") ?? id
        let url = try optionalString(fields, "url")
        var metadataJSON: String?
        if let metadata = fields["metadata"], !(metadata is NSNull) {
            guard let dictionary = metadata as? [String: Any] else {
                throw ReadError.malformedRecord("field \"metadata\" must be a JSON object")
            }
            let data = try JSONSerialization.data(withJSONObject: dictionary, options: [.sortedKeys, .withoutEscapingSlashes])
            metadataJSON = String(decoding: data, as: UTF8.self)
        }
        let normalized = text.utf8.contains(UInt8(ascii: "\r")) ? text.replacingCRLF() : text
        return Record(id: id, document: ParsedDocument(
            title: title.isEmpty ? id : title, text: normalized, url: url, metadataJSON: metadataJSON, format: .jsonl))
    }

    /// JSON `true` and `false` come back as `NSNumber`s too (and as 1 and 0 from `doubleValue`);
    /// they are Foundation's boolean class, which no number parsed from JSON is.
    private static func isBoolean(_ number: NSNumber) -> Bool {
        type(of: number) == type(of: NSNumber(value: true))
    }

    private static func optionalString(_ fields: [String: Any], _ key: String) throws -> String? {
        switch fields[key] {
        case nil, is NSNull: return nil
        case let string as String: return string
        default: throw ReadError.malformedRecord("field \"\(key)\" must be a string")
        }
    }

    private static func briefJSONError(_ error: Error) -> String {
        let nsError = error as NSError
        if let detail = nsError.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        return nsError.localizedDescription
    }
}
