/// A GGUF file that kb cannot run as a language model, naming the file and the reason.
public struct ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Problem: Equatable, Sendable {
        /// `general.architecture` names an architecture the engine does not implement.
        case unsupportedArchitecture(String)
        /// A hyperparameter is missing its meaning: zero, negative, or inconsistent with another.
        case invalidHyperparameter(key: String, reason: String)
        /// A tensor the architecture needs is absent.
        case missingTensor(String)
        /// A tensor has another shape than the hyperparameters imply (shapes innermost first).
        case tensorShape(tensor: String, expected: [Int], found: [Int])
        /// A tensor's element type cannot be decoded.
        case unsupportedTensorType(tensor: String, type: String)
    }

    /// The model file's path.
    public let file: String
    /// What is wrong with it.
    public let problem: Problem

    /// Creates an error about `file`.
    public init(file: String, problem: Problem) {
        self.file = file
        self.problem = problem
    }

    public var description: String {
        switch problem {
        case .unsupportedArchitecture(let name):
            let known = ModelArchitecture.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(file): unsupported architecture '\(name)' (kb runs: \(known))"
        case .invalidHyperparameter(let key, let reason):
            return "\(file): invalid hyperparameter \(key): \(reason)"
        case .missingTensor(let name):
            return "\(file): missing tensor \(name)"
        case .tensorShape(let tensor, let expected, let found):
            return "\(file): tensor \(tensor) has shape \(found), expected \(expected)"
        case .unsupportedTensorType(let tensor, let type):
            return "\(file): tensor \(tensor) has type \(type), which kb cannot decode"
        }
    }
}
