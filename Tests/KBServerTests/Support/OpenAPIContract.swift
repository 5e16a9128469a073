import Foundation
import KBSupport
import KBTestSupport
import Yams

/// Checks real responses against `schemas/openapi.yaml`: the status is documented for the route,
/// the content type is one the route declares, and a JSON body matches the declared schema (types,
/// required fields, enums, `$ref`, `oneOf`, arrays and nested objects). Deliberately small: it
/// covers the parts of JSON Schema the spec uses.
struct OpenAPIContract {
    let spec: [String: Any]

    init() throws {
        let url = TestSupport.repositoryRoot.appendingPathComponent("schemas/openapi.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        guard let spec = try Yams.load(yaml: text) as? [String: Any] else {
            throw HTTPTestClient.Failure(description: "openapi.yaml is not a mapping")
        }
        self.spec = spec
    }

    /// Paths and their methods, e.g. ["/v1/search": ["post"]].
    var operations: [String: Set<String>] {
        ((spec["paths"] as? [String: Any]) ?? [:]).mapValues { item in
            Set(((item as? [String: Any]) ?? [:]).keys.filter { ["get", "post", "put", "patch", "delete"].contains($0) })
        }
    }

    /// Problems with `response` as an answer to `method path` (path as written in the spec, e.g. `/v1/documents/{id}`).
    func problems(_ method: String, _ path: String, _ response: HTTPTestResponse) -> [String] {
        guard let operation = ((spec["paths"] as? [String: Any])?[path] as? [String: Any])?[method.lowercased()] as? [String: Any] else {
            return ["\(method) \(path) is not in the spec"]
        }
        guard var declared = (operation["responses"] as? [String: Any])?[String(response.status)] as? [String: Any] else {
            return ["\(method) \(path): status \(response.status) is not documented"]
        }
        if let ref = declared["$ref"] as? String, let resolved = resolve(ref) { declared = resolved }
        guard let content = declared["content"] as? [String: Any] else { return [] }
        let type = (response.headers["content-type"] ?? "").split(separator: ";").first.map(String.init) ?? ""
        guard let media = content[type] as? [String: Any] else {
            return ["\(method) \(path) \(response.status): content type '\(type)' is not declared (\(content.keys.sorted()))"]
        }
        guard type == "application/json", let schema = media["schema"] as? [String: Any] else { return [] }
        guard let body = try? JSONDecoder().decode(JSONNode.self, from: response.body) else {
            return ["\(method) \(path) \(response.status): the body is not JSON"]
        }
        return validate(body, schema, at: "body")
    }

    private func resolve(_ ref: String) -> [String: Any]? {
        guard ref.hasPrefix("#/") else { return nil }
        var node: Any? = spec
        for part in ref.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] }
        return node as? [String: Any]
    }

    func validate(_ value: JSONNode, _ schema: [String: Any], at location: String) -> [String] {
        if let ref = schema["$ref"] as? String {
            guard let resolved = resolve(ref) else { return ["\(location): unresolvable \(ref)"] }
            return validate(value, resolved, at: location)
        }
        if let options = schema["oneOf"] as? [[String: Any]] {
            let passing = options.filter { validate(value, $0, at: location).isEmpty }.count
            return passing == 1 ? [] : ["\(location): matches \(passing) of the oneOf schemas"]
        }
        var problems: [String] = []
        if let types = (schema["type"] as? [String]) ?? (schema["type"] as? String).map({ [$0] }) {
            guard types.contains(where: { value.matches($0) }) else {
                return ["\(location): expected \(types.joined(separator: " or ")), got \(value.summary)"]
            }
        }
        if let allowed = schema["enum"] as? [Any] {
            if !allowed.contains(where: { "\($0)" == value.text }) { problems.append("\(location): \(value.summary) not in \(allowed)") }
        }
        if case .object(let object) = value {
            for key in (schema["required"] as? [String]) ?? [] where object[key] == nil {
                problems.append("\(location): missing required '\(key)'")
            }
            let properties = (schema["properties"] as? [String: Any]) ?? [:]
            for (key, child) in object {
                if let property = properties[key] as? [String: Any] {
                    if case .null = child, !((property["type"] as? [String])?.contains("null") ?? false) { continue }
                    problems += validate(child, property, at: "\(location).\(key)")
                } else if let additional = schema["additionalProperties"] as? [String: Any] {
                    problems += validate(child, additional, at: "\(location).\(key)")
                }
            }
        }
        if case .array(let array) = value, let items = schema["items"] as? [String: Any] {
            for (index, element) in array.enumerated() { problems += validate(element, items, at: "\(location)[\(index)]") }
        }
        return problems
    }

}

/// Response bodies are read as ``JSONValue`` (KBSupport), which keeps booleans, integers and other
/// numbers apart; the contract checks add type matching and short descriptions.
typealias JSONNode = JSONValue

extension JSONValue {
    func matches(_ type: String) -> Bool {
        switch (type, self) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("integer", .int),
             ("number", .int), ("number", .double), ("null", .null): return true
        default: return false
        }
    }

    /// Scalars as text (for enum comparison).
    var text: String {
        switch self {
        case .string(let value): return value
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .bool(let value): return String(value)
        default: return summary
        }
    }

    /// A short description for failure messages.
    var summary: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return "\(value)"
        case .int(let value): return "\(value)"
        case .double(let value): return "\(value)"
        case .string(let value): return "\"\(value)\""
        case .array(let value): return "array(\(value.count))"
        case .object(let value): return "object(\(value.keys.sorted()))"
        }
    }
}
