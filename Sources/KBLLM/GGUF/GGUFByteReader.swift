/// A bounds-checked little-endian cursor over the bytes of a GGUF file.
///
/// Every read checks that it fits in the file and throws ``GGUFError/Problem/truncated(offset:needed:fileSize:)``
/// otherwise, so garbage or cut-off files fail with an error instead of reading past the mapping.
struct GGUFByteReader {
    /// The whole file (`bytes.count` bytes).
    let bytes: UnsafeRawBufferPointer
    /// The file's path, for errors.
    let file: String
    /// The absolute offset of the next read.
    private(set) var offset: Int

    init(bytes: UnsafeRawBufferPointer, file: String, offset: Int = 0) {
        self.bytes = bytes
        self.file = file
        self.offset = offset
    }

    /// Bytes left after `offset`.
    var remaining: Int { bytes.count - offset }

    func error(_ problem: GGUFError.Problem) -> GGUFError {
        GGUFError(file: file, problem: problem)
    }

    /// Throws unless `count` more bytes are available at `offset`.
    func require(_ count: Int) throws {
        guard count >= 0, count <= remaining else {
            throw error(.truncated(offset: offset, needed: count, fileSize: bytes.count))
        }
    }

    /// Like ``require(_:)`` for a count read from the file (which may exceed `Int`).
    func requireLength(_ count: UInt64) throws -> Int {
        guard let exact = Int(exactly: count) else {
            throw error(.truncated(offset: offset, needed: Int.max, fileSize: bytes.count))
        }
        try require(exact)
        return exact
    }

    /// Reads a little-endian integer.
    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        try require(size)
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    mutating func readFloat() throws -> Float { Float(bitPattern: try read(UInt32.self)) }

    mutating func readDouble() throws -> Double { Double(bitPattern: try read(UInt64.self)) }

    /// Reads a GGUF string: a `UInt64` byte length, then that many UTF-8 bytes (not NUL-terminated).
    /// Invalid UTF-8 is repaired with U+FFFD, as `String(decoding:as:)` does.
    mutating func readString() throws -> String {
        // Two statements: in `requireLength(read(...))` Swift would copy `self` before the read
        // moves `offset`, and check the length against the wrong position.
        let rawLength = try read(UInt64.self)
        let length = try requireLength(rawLength)
        let start = offset
        offset += length
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<start + length]), as: UTF8.self)
    }

    /// Skips a GGUF string without decoding it.
    mutating func skipString() throws {
        let rawLength = try read(UInt64.self)
        let length = try requireLength(rawLength)
        offset += length
    }

    /// Moves past `count` bytes.
    mutating func skip(_ count: Int) throws {
        try require(count)
        offset += count
    }
}
