/// The key-value metadata of a GGUF file, in file order, with typed accessors.
///
/// ```swift
/// let layers = try file.metadata.int("qwen2.block_count")          // 24
/// let base = try file.metadata.float("qwen2.rope.freq_base")        // 1e6
/// let tokens = try file.metadata.strings("tokenizer.ggml.tokens")   // the vocabulary
/// ```
/// The throwing accessors fail with ``GGUFError/Problem/missingKey(_:)`` or
/// ``GGUFError/Problem/typeMismatch(key:expected:found:)``, naming the file; the `default:`
/// variants return the default only when the key is absent, never when it has the wrong type.
public struct GGUFMetadata: Sendable {
    /// The file's path, for errors.
    public let file: String
    /// Every key, in the order the file stores them.
    public let keys: [String]
    private let values: [String: GGUFValue]

    init(file: String, keys: [String], values: [String: GGUFValue]) {
        self.file = file
        self.keys = keys
        self.values = values
    }

    /// The number of key-value pairs.
    public var count: Int { keys.count }

    /// The value of `key`, if present.
    public subscript(key: String) -> GGUFValue? { values[key] }

    /// Whether `key` is present.
    public func contains(_ key: String) -> Bool { values[key] != nil }

    /// `general.architecture`, e.g. `"qwen2"` or `"llama"`: the prefix of the model's own keys.
    public var architecture: String {
        get throws { try string("general.architecture") }
    }

    // MARK: - Typed accessors

    private func error(_ problem: GGUFError.Problem) -> GGUFError { GGUFError(file: file, problem: problem) }

    private func value(_ key: String) throws -> GGUFValue {
        guard let value = values[key] else { throw error(.missingKey(key)) }
        return value
    }

    private func mismatch(_ key: String, _ expected: String, _ value: GGUFValue) -> GGUFError {
        error(.typeMismatch(key: key, expected: expected, found: value.typeDescription))
    }

    /// An integer of any width and signedness, as `Int`.
    public func int(_ key: String) throws -> Int {
        let value = try value(key)
        guard let int = value.intValue else { throw mismatch(key, "an integer", value) }
        return int
    }

    /// An integer, or `defaultValue` when `key` is absent.
    public func int(_ key: String, default defaultValue: Int) throws -> Int {
        contains(key) ? try int(key) : defaultValue
    }

    /// A `float32` (or `float64`, rounded) value.
    public func float(_ key: String) throws -> Float {
        let value = try value(key)
        guard let double = value.doubleValue else { throw mismatch(key, "a float", value) }
        return Float(double)
    }

    /// A float, or `defaultValue` when `key` is absent.
    public func float(_ key: String, default defaultValue: Float) throws -> Float {
        contains(key) ? try float(key) : defaultValue
    }

    /// A `float64` (or `float32`, widened) value.
    public func double(_ key: String) throws -> Double {
        let value = try value(key)
        guard let double = value.doubleValue else { throw mismatch(key, "a float", value) }
        return double
    }

    /// A `bool` value.
    public func bool(_ key: String) throws -> Bool {
        let value = try value(key)
        guard let bool = value.boolValue else { throw mismatch(key, "a bool", value) }
        return bool
    }

    /// A bool, or `defaultValue` when `key` is absent.
    public func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        contains(key) ? try bool(key) : defaultValue
    }

    /// A `string` value.
    public func string(_ key: String) throws -> String {
        let value = try value(key)
        guard let string = value.stringValue else { throw mismatch(key, "a string", value) }
        return string
    }

    /// An `array` value of any element type.
    public func array(_ key: String) throws -> GGUFArray {
        let value = try value(key)
        guard let array = value.arrayValue else { throw mismatch(key, "an array", value) }
        return array
    }

    /// An `array<string>`, decoded (e.g. `tokenizer.ggml.tokens`, `tokenizer.ggml.merges`).
    public func strings(_ key: String) throws -> [String] { try array(key).strings() }

    /// An array of integers, decoded (e.g. `tokenizer.ggml.token_type`).
    public func integers(_ key: String) throws -> [Int] { try array(key).integers() }

    /// An `array<float32>`, decoded (e.g. `tokenizer.ggml.scores`).
    public func floats(_ key: String) throws -> [Float] { try array(key).floats() }
}
