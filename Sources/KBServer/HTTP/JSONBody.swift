import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Reading JSON request bodies with clear errors, and writing JSON responses.
enum JSONBody {
    /// Collects a request's body, refusing more than `limit` bytes with 413 (at once when its
    /// `Content-Length` says so).
    static func collect(_ body: RequestBody, headers: HTTPFields, limit: Int) async throws -> ByteBuffer {
        if let declared = headers[.contentLength].flatMap(Int.init), declared > limit {
            throw tooLarge(declared, limit)
        }
        do {
            return try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw tooLarge(nil, limit)
        }
    }

    private static func tooLarge(_ bytes: Int?, _ limit: Int) -> APIError {
        let size = bytes.map { "\($0) bytes" } ?? "the request body"
        return APIError(.contentTooLarge, "body_too_large",
                        "\(size) is over the \(limit)-byte limit of this endpoint (server option --max-body)")
    }

    /// Decodes `T` from a JSON body; malformed JSON, wrong types and missing fields become 400s that
    /// name the field.
    static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        let data = Data(buffer.readableBytesView)
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw APIError.badRequest("empty_body", "the request body is empty; send a JSON object")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            // Foundation reports a number that does not fit the field's type (`-1` for a count,
            // `1.5` for an integer) without the field's path: the body is valid JSON all the same.
            if Self.isPathlessCorruption(error), let (field, value) = Self.misfitNumber(T.self, in: data) {
                throw APIError.badRequest("invalid_field",
                                          "field '\(field)': \(value) does not fit (a whole number in the field's range is expected)")
            }
            throw describe(error)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.badRequest("invalid_json", "the request body is not valid JSON")
        }
    }

    private static func isPathlessCorruption(_ error: DecodingError) -> Bool {
        if case .dataCorrupted(let context) = error { return context.codingPath.isEmpty }
        return false
    }

    /// The top-level number that Foundation could not fit into its field, found by leaving out one
    /// number at a time until the pathless error goes away (only on this error path).
    private static func misfitNumber<T: Decodable>(_ type: T.Type, in data: Data) -> (field: String, value: String)? {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        for (key, value) in object.sorted(by: { $0.key < $1.key }) where value is NSNumber {
            var without = object
            without[key] = nil
            guard let trimmed = try? JSONSerialization.data(withJSONObject: without) else { continue }
            do {
                _ = try JSONDecoder().decode(T.self, from: trimmed)
            } catch let error as DecodingError where isPathlessCorruption(error) {
                continue
            } catch {}
            return (key, "\(value)")
        }
        return nil
    }

    static func describe(_ error: DecodingError) -> APIError {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return .badRequest("invalid_json", "the request body is not valid JSON"
                                   + (context.underlyingError.map { " (\(brief($0)))" } ?? ""))
            }
            return .badRequest("invalid_field", "field '\(path(context.codingPath))': \(context.debugDescription)")
        case .typeMismatch(let type, let context):
            if context.codingPath.isEmpty {
                return .badRequest("invalid_json", "the request body must be a JSON object")
            }
            return .badRequest("invalid_field", "field '\(path(context.codingPath))' must be \(typeName(type))")
        case .valueNotFound(let type, let context):
            return .badRequest("invalid_field", "field '\(path(context.codingPath))' must be \(typeName(type)), not null")
        case .keyNotFound(let key, let context):
            return .badRequest("missing_field", "missing required field '\(path(context.codingPath + [key]))'")
        @unknown default:
            return .badRequest("invalid_json", "the request body does not match the expected shape")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
        case is UInt.Type, is UInt64.Type, is UInt32.Type: return "a non-negative integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") || name.hasPrefix("Optional<Dictionary") { return "an object" }
            return "an object"
        }
    }

    private static func brief(_ error: any Error) -> String {
        (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
    }

    /// JSON with snake_case keys as declared by each type, no escaped slashes.
    static func encodeBytes<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding our own response types cannot fail (no non-finite floats are produced).
        return (try? Array(encoder.encode(value))) ?? Array(#"{"error":{"code":"internal_error","message":"encoding failed"}}"#.utf8)
    }

    /// A `200 OK` (or `status`) JSON response.
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: encodeBytes(value))))
    }
}
