import Foundation

/// Reads a file line by line in bounded memory. A line longer than the limit is consumed without
/// being kept, and reported by its length.
struct LineReader {
    enum Line {
        case text(ArraySlice<UInt8>)
        case tooLong(bytes: Int)
    }

    private let handle: FileHandle
    private let maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var discarding = 0          // bytes of an over-long line dropped so far
    private(set) var lineNumber = 0
    private let blockSize = 1 << 20

    init(path: String, maxLineBytes: Int) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ReadError.unreadable("permission denied") }
        self.handle = handle
        self.maxLineBytes = maxLineBytes
    }

    /// The next line (without its "\n"), or nil at the end of the file. The slice is valid until the next call.
    mutating func next() throws -> Line? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[start..<newline]
                start = newline + 1
                lineNumber += 1
                if discarding > 0 {
                    defer { discarding = 0 }
                    return .tooLong(bytes: discarding + line.count)
                }
                return .text(line)
            }
            if atEnd {
                guard start < buffer.count || discarding > 0 else { return nil }
                let line = buffer[start...]
                start = buffer.count
                lineNumber += 1
                if discarding > 0 {
                    defer { discarding = 0 }
                    return .tooLong(bytes: discarding + line.count)
                }
                return .text(line)
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            if buffer.count > maxLineBytes {
                discarding += buffer.count
                buffer.removeAll(keepingCapacity: true)
            }
            let data = try handle.read(upToCount: blockSize) ?? Data()
            if data.isEmpty { atEnd = true } else { buffer.append(contentsOf: data) }
        }
    }

    func close() { try? handle.close() }
}
