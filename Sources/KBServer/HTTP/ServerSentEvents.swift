import Foundation
import Hummingbird

/// Server-Sent Events framing (`text/event-stream`): `event:` and `data:` lines, a blank line after each.
enum ServerSentEvents {
    static let headers: HTTPFields = [
        .contentType: "text/event-stream; charset=utf-8",
        .cacheControl: "no-cache",
    ]

    /// One event; `data` is split into `data:` lines so it may hold newlines.
    static func event(_ name: String?, data: String) -> ByteBuffer {
        var text = ""
        if let name { text += "event: \(name)\n" }
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(line)\n" }
        text += "\n"
        return ByteBuffer(string: text)
    }

    static func event<T: Encodable>(_ name: String?, json value: T) -> ByteBuffer {
        event(name, data: String(decoding: JSONBody.encodeBytes(value), as: UTF8.self))
    }
}
