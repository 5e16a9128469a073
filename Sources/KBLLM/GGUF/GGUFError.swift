/// A GGUF file that could not be opened or read, naming the file and what is wrong with it.
///
/// Every error the GGUF reader throws is a `GGUFError`, so a caller can print it as is:
/// `models/x.gguf: truncated: needs 8 bytes at offset 1234 but the file has 1236 bytes`.
public struct GGUFError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong, with the details needed to find it in the file.
    public enum Problem: Equatable, Sendable {
        /// `open`, `fstat` or `mmap` failed with this `errno`.
        case cannotOpen(errno: Int32)
        /// The file does not start with the bytes `GGUF`; `found` holds its first four bytes.
        case badMagic(found: UInt32)
        /// The header names a format version this reader does not read (it reads 2 and 3).
        case unsupportedVersion(UInt32)
        /// The file was written big-endian; only little-endian files are read.
        case bigEndian
        /// A read of `needed` bytes at `offset` runs past the end of a file of `fileSize` bytes.
        case truncated(offset: Int, needed: Int, fileSize: Int)
        /// A metadata value (of `key`) has a type id that GGUF does not define.
        case invalidValueType(key: String, rawType: UInt32)
        /// The same metadata key appears twice.
        case duplicateKey(String)
        /// Arrays of arrays nest deeper than the reader allows (a sign of a corrupt file).
        case arrayNestingTooDeep(key: String)
        /// `general.alignment` is zero, not a power of two, or not an integer.
        case invalidAlignment(String)
        /// A tensor has a type id that ggml does not define.
        case unknownTensorType(tensor: String, rawType: UInt32)
        /// A tensor's dimensions are unusable: too many, negative, overflowing, or a row that
        /// is not a whole number of blocks.
        case invalidTensorShape(tensor: String, shape: [UInt64], reason: String)
        /// The same tensor name appears twice.
        case duplicateTensor(String)
        /// A tensor's data offset is not a multiple of the file's alignment.
        case misalignedTensor(tensor: String, offset: UInt64, alignment: Int)
        /// A tensor's bytes (`offset` relative to the data section, `byteCount` long) do not fit
        /// in the `available` bytes of the data section.
        case tensorOutOfBounds(tensor: String, offset: UInt64, byteCount: Int, available: Int)
        /// A required metadata key is absent.
        case missingKey(String)
        /// A metadata key holds a value of another type (or an integer out of range).
        case typeMismatch(key: String, expected: String, found: String)
        /// No tensor of this name is in the file.
        case tensorNotFound(String)
        /// The tensor's type has no dequantization (yet), or a typed view asked for another type.
        case unsupportedTensorType(tensor: String, type: String)
    }

    /// The path of the file, as it was given to the reader.
    public let file: String
    /// What is wrong with it.
    public let problem: Problem

    /// Creates an error about `file`.
    public init(file: String, problem: Problem) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem.message)" }
}

extension GGUFError.Problem {
    /// A one-line explanation for people.
    public var message: String {
        switch self {
        case .cannotOpen(let code):
            return "cannot open or map the file (errno \(code))"
        case .badMagic(let found):
            return "not a GGUF file (magic 0x\(String(found, radix: 16)), expected 0x46554747 \"GGUF\")"
        case .unsupportedVersion(let version):
            return "unsupported GGUF version \(version) (this reader reads versions 2 and 3)"
        case .bigEndian:
            return "big-endian GGUF files are not supported"
        case .truncated(let offset, let needed, let fileSize):
            return "truncated: needs \(needed) bytes at offset \(offset) but the file has \(fileSize) bytes"
        case .invalidValueType(let key, let rawType):
            return "metadata key '\(key)' has an invalid value type \(rawType)"
        case .duplicateKey(let key):
            return "metadata key '\(key)' appears twice"
        case .arrayNestingTooDeep(let key):
            return "metadata key '\(key)' nests arrays deeper than \(GGUFArray.maximumNesting) levels"
        case .invalidAlignment(let detail):
            return "invalid general.alignment: \(detail)"
        case .unknownTensorType(let tensor, let rawType):
            return "tensor '\(tensor)' has an unknown type id \(rawType)"
        case .invalidTensorShape(let tensor, let shape, let reason):
            return "tensor '\(tensor)' has an invalid shape \(shape): \(reason)"
        case .duplicateTensor(let tensor):
            return "tensor '\(tensor)' appears twice"
        case .misalignedTensor(let tensor, let offset, let alignment):
            return "tensor '\(tensor)' data offset \(offset) is not a multiple of the alignment \(alignment)"
        case .tensorOutOfBounds(let tensor, let offset, let byteCount, let available):
            return "tensor '\(tensor)' (\(byteCount) bytes at data offset \(offset)) lies outside the "
                + "\(available)-byte data section"
        case .missingKey(let key):
            return "metadata key '\(key)' is missing"
        case .typeMismatch(let key, let expected, let found):
            return "metadata key '\(key)' holds \(found), expected \(expected)"
        case .tensorNotFound(let tensor):
            return "no tensor named '\(tensor)'"
        case .unsupportedTensorType(let tensor, let type):
            return "tensor '\(tensor)' has type \(type), which this operation does not support"
        }
    }
}
