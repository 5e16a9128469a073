import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A response read by ``HTTPTestClient``.
struct HTTPTestResponse {
    var status: Int
    /// Header names lowercased.
    var headers: [String: String]
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (fails the caller's expectations by returning [:] when it is not one).
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }

    /// The `{"error": {"code"}}` of an error response.
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var errorMessage: String? { (json["error"] as? [String: Any])?["message"] as? String }
}

/// A deliberately small HTTP/1.1 client over a blocking socket, run on its own thread so the
/// server's tasks are never starved. It can do what a well-behaved client library will not: send
/// bodies slowly, send garbage, and hang up in the middle of a streamed response.
struct HTTPTestClient: Sendable {
    let port: Int

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Sends a request with `Connection: close` and reads the whole response.
    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: Data? = nil) async throws -> HTTPTestResponse {
        try await onThread {
            let socket = try Self.connect(port: port)
            defer { close(socket) }
            try Self.send(socket, Self.head(method, path, headers: headers, bodyLength: body?.count) + (body ?? Data()))
            return try Self.parse(Self.readAll(socket))
        }
    }

    func json(_ method: String, _ path: String, _ object: Any, headers: [String: String] = [:]) async throws -> HTTPTestResponse {
        var headers = headers
        headers["Content-Type"] = headers["Content-Type"] ?? "application/json"
        return try await request(method, path, headers: headers, body: try JSONSerialization.data(withJSONObject: object))
    }

    /// Sends raw bytes and reads what comes back until the server closes or `timeout` passes.
    func raw(_ bytes: Data, pauseAfterBytes: Int? = nil, pause: Double = 0, timeout: Double = 10) async throws -> Data {
        try await onThread {
            let socket = try Self.connect(port: port, receiveTimeout: timeout)
            defer { close(socket) }
            if let split = pauseAfterBytes {
                try Self.send(socket, bytes.prefix(split))
                Thread.sleep(forTimeInterval: pause)
                try? Self.send(socket, bytes.dropFirst(split))
            } else {
                try Self.send(socket, bytes)
            }
            return Self.readAll(socket)
        }
    }

    /// Starts a request and reads the response until `stop` says enough (given the bytes so far),
    /// then closes the socket: abruptly (RST, like a killed client) by default, or with `reset`
    /// false normally (FIN, like a client that stopped reading). Returns the bytes read.
    func readThenHangUp(_ method: String, _ path: String, headers: [String: String] = [:], body: Data,
                        reset: Bool = true, stop: @escaping @Sendable (Data) -> Bool) async throws -> Data {
        try await onThread {
            let socket = try Self.connect(port: port)
            try Self.send(socket, Self.head(method, path, headers: headers, bodyLength: body.count) + body)
            var received = Data()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !stop(received) {
                let n = Glibc.read(socket, &buffer, buffer.count)
                if n <= 0 { break }
                received.append(contentsOf: buffer[0..<n])
            }
            Self.hangUp(socket, reset: reset)
            return received
        }
    }

    /// Sends a request, waits until `condition` holds (e.g. the generation started), then closes
    /// the connection abruptly without reading the answer, like a client that gave up.
    /// With `reset` false the connection is closed normally (FIN) instead of with RST.
    func sendThenHangUp(_ method: String, _ path: String, headers: [String: String] = [:], body: Data,
                        reset: Bool = true, when condition: @escaping @Sendable () -> Bool, timeout: Double = 10) async throws {
        try await onThread {
            let socket = try Self.connect(port: port)
            try Self.send(socket, Self.head(method, path, headers: headers, bodyLength: body.count) + body)
            let deadline = Date().addingTimeInterval(timeout)
            var met = false
            while !met && Date() < deadline {
                met = condition()
                if !met { usleep(5_000) }
            }
            Self.hangUp(socket, reset: reset)   // the server may clear the condition at once: judge it before
            if !met { throw Failure(description: "the condition before hanging up was not met in \(timeout) s") }
        }
    }

    /// Sends a request and reads the answer on a thread of its own as it arrives (for streams
    /// that must be watched while they run).
    func startReading(_ method: String, _ path: String, headers: [String: String] = [:], body: Data) throws -> ArrivingResponse {
        let socket = try Self.connect(port: port)
        try Self.send(socket, Self.head(method, path, headers: headers, bodyLength: body.count) + body)
        let arriving = ArrivingResponse()
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = Glibc.read(socket, &buffer, buffer.count)
                if n <= 0 { break }
                arriving.append(buffer[0..<n])
            }
            close(socket)
            arriving.finish()
        }
        thread.start()
        return arriving
    }

    // MARK: - Plumbing

    /// Closes a socket: with RST (`SO_LINGER` 0, like a killed client) or normally with FIN.
    static func hangUp(_ socket: Int32, reset: Bool) {
        if reset {
            var lingerOption = linger(l_onoff: 1, l_linger: 0)
            setsockopt(socket, SOL_SOCKET, SO_LINGER, &lingerOption, socklen_t(MemoryLayout<linger>.size))
        }
        close(socket)
    }

    private func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try work() }) }
            thread.start()
        }
    }

    static func head(_ method: String, _ path: String, headers: [String: String], bodyLength: Int?) -> Data {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let bodyLength { text += "Content-Length: \(bodyLength)\r\n" }
        return Data((text + "\r\n").utf8)
    }

    static func connect(port: Int, receiveTimeout: Double = 60) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket() failed") }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int(receiveTimeout.truncatingRemainder(dividingBy: 1) * 1e6))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(socket)
            throw Failure(description: "connect to port \(port) failed")
        }
        return socket
    }

    static func send(_ socket: Int32, _ data: Data) throws {
        var offset = 0
        let bytes = [UInt8](data)
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send failed") }
            offset += n
        }
    }

    static func readAll(_ socket: Int32) -> Data {
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = Glibc.read(socket, &buffer, buffer.count)
            if n <= 0 { break }
            received.append(contentsOf: buffer[0..<n])
        }
        return received
    }

    /// Parses status line, headers and a body framed by Content-Length, chunked encoding or EOF.
    static func parse(_ data: Data) throws -> HTTPTestResponse {
        let bytes = [UInt8](data)
        guard let end = find([13, 10, 13, 10], in: bytes, from: 0) else {
            throw Failure(description: "no complete response head in \(bytes.count) bytes: \(String(decoding: bytes, as: UTF8.self))")
        }
        let head = String(decoding: bytes[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw Failure(description: "bad status line: \(head[0])")
        }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(bytes[(end + 4)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var decoded: [UInt8] = []
            var position = 0
            while let lineEnd = find([13, 10], in: body, from: position) {
                let sizeText = String(decoding: body[position..<lineEnd], as: UTF8.self).split(separator: ";")[0]
                guard let size = Int(sizeText, radix: 16) else { break }
                if size == 0 { break }
                let start = lineEnd + 2
                guard start + size <= body.count else { decoded += body[start...]; break }
                decoded += body[start..<start + size]
                position = start + size + 2
            }
            body = decoded
        } else if let length = headers["content-length"].flatMap(Int.init) {
            body = Array(body.prefix(length))
        }
        return HTTPTestResponse(status: status, headers: headers, body: Data(body))
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        for i in start...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<i + needle.count]) == needle { return i }
        }
        return nil
    }
}

/// Server-Sent Events parsed from a response body.
struct SSEEvent: Equatable {
    var name: String?
    var data: String

    static func parse(_ text: String) -> [SSEEvent] {
        var events: [SSEEvent] = []
        for block in text.components(separatedBy: "\n\n") where !block.isEmpty {
            var name: String?
            var data: [String] = []
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                else if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
            }
            events.append(SSEEvent(name: name, data: data.joined(separator: "\n")))
        }
        return events
    }

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:]
    }
}

/// The bytes of a response received so far, and whether the server has closed the connection.
final class ArrivingResponse: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var done = false

    func append(_ bytes: ArraySlice<UInt8>) { lock.withLock { data.append(contentsOf: bytes) } }
    func finish() { lock.withLock { done = true } }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
    var finished: Bool { lock.withLock { done } }
    /// The whole response, once finished.
    func response() throws -> HTTPTestResponse { try HTTPTestClient.parse(lock.withLock { data }) }
}
