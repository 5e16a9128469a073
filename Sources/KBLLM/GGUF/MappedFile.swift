#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory mapping of a whole file.
///
/// The file's pages are loaded by the kernel on first touch and can be dropped again under memory
/// pressure, so a model larger than free RAM (a 20 GB GGUF on a 24 GB machine) opens without
/// being copied. The mapping lives as long as this object; views into it (``GGUFTensor``,
/// ``GGUFArray``) keep a reference so their pointers stay valid.
///
/// Read-only and never mutated after `init`, so it is safe to share across threads.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened with.
    public let path: String
    /// The first byte of the mapping (`count` bytes); `nil` for an empty file, which cannot be mapped.
    public let baseAddress: UnsafeRawPointer?
    /// The file's size in bytes.
    public let count: Int

    /// Maps `path` read-only.
    /// - Throws: ``GGUFError`` with ``GGUFError/Problem/cannotOpen(errno:)`` when the file cannot
    ///   be opened, stat'ed or mapped.
    public init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw GGUFError(file: path, problem: .cannotOpen(errno: errno)) }
        defer { close(descriptor) }  // the mapping stays valid after the descriptor is closed

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw GGUFError(file: path, problem: .cannotOpen(errno: errno))
        }
        count = Int(status.st_size)
        guard count > 0 else {
            baseAddress = nil
            return
        }
        guard let address = mmap(nil, count, PROT_READ, MAP_PRIVATE, descriptor, 0),
            address != MAP_FAILED
        else {
            throw GGUFError(file: path, problem: .cannotOpen(errno: errno))
        }
        baseAddress = UnsafeRawPointer(address)
    }

    deinit {
        if let baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: baseAddress), count)
        }
    }

    /// Drops the process's resident pages of the whole pages inside `range` (a part of this
    /// mapping) for data that was copied elsewhere: a later read loads them from the file again,
    /// so nothing changes but the memory held (`madvise(MADV_DONTNEED)` on a private, never
    /// written file mapping).
    public func releaseResidentPages(_ range: UnsafeRawBufferPointer) {
        guard let start = range.baseAddress, range.count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page
        let end = (Int(bitPattern: start) + range.count) / page * page
        guard end > first else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: first), end - first, MADV_DONTNEED)
    }

    /// The whole mapping as a buffer (empty for an empty file).
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: baseAddress, count: count)
    }
}
