import Foundation

/// A strict parser of the Prometheus text exposition format (version 0.0.4), written for the tests:
/// it rejects what a Prometheus server would reject (bad names, bad escapes, unparsable values,
/// samples of a family whose TYPE came after them, duplicate series, inconsistent histograms).
struct PrometheusTextParser {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Family {
        var name: String
        var type: String
        var help: String?
        var samples: [Sample] = []
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: Int
        var reason: String
        var description: String { "line \(line): \(reason)" }
    }

    private(set) var families: [String: Family] = [:]

    static func parse(_ text: String) throws -> PrometheusTextParser {
        var parser = PrometheusTextParser()
        try parser.read(text)
        try parser.checkHistograms()
        return parser
    }

    /// Every sample of one series name (e.g. `kb_http_requests_total`), across families.
    func samples(_ name: String) -> [Sample] {
        families.values.flatMap(\.samples).filter { $0.name == name }
    }

    private static func isMetricName(_ name: Substring) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII,
              first.properties.isAlphabetic || first == "_" || first == ":" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ":") }
    }

    private static func isLabelName(_ name: Substring) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }

    private static func value(_ text: Substring) -> Double? {
        switch text {
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return Double(text)
        }
    }

    /// The family a series name belongs to (`x_bucket`, `x_sum`, `x_count` belong to histogram `x`).
    private func family(of name: String) -> String? {
        if families[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if let family = families[base], family.type == "histogram" || family.type == "summary" { return base }
        }
        return nil
    }

    private mutating func read(_ text: String) throws {
        var seenSeries = Set<String>()
        guard text.isEmpty || text.hasSuffix("\n") else { throw ParseError(line: 0, reason: "the exposition must end with a newline") }
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
            let number = offset + 1
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count >= 3, parts[0] == "#" else { continue }   // a plain comment
                let name = parts[2]
                guard Self.isMetricName(name) else { throw ParseError(line: number, reason: "bad metric name \(name)") }
                if parts[1] == "TYPE" {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw ParseError(line: number, reason: "bad TYPE line")
                    }
                    guard families[String(name)] == nil || families[String(name)]?.type == "untyped-pending" else {
                        throw ParseError(line: number, reason: "second TYPE for \(name)")
                    }
                    var family = families[String(name)] ?? Family(name: String(name), type: String(parts[3]))
                    family.type = String(parts[3])
                    families[String(name)] = family
                } else if parts[1] == "HELP" {
                    var family = families[String(name)] ?? Family(name: String(name), type: "untyped-pending")
                    family.help = parts.count == 4 ? String(parts[3]) : ""
                    families[String(name)] = family
                }
                continue
            }
            let sample = try parseSample(line, number)
            let key = sample.name + "{" + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
            guard seenSeries.insert(key).inserted else { throw ParseError(line: number, reason: "duplicate series \(key)") }
            guard let familyName = family(of: sample.name) else {
                throw ParseError(line: number, reason: "sample \(sample.name) before or without its TYPE")
            }
            families[familyName]?.samples.append(sample)
        }
        if let pending = families.values.first(where: { $0.type == "untyped-pending" }) {
            throw ParseError(line: 0, reason: "HELP without TYPE for \(pending.name)")
        }
    }

    private func parseSample(_ line: Substring, _ number: Int) throws -> Sample {
        let scalars = Array(line.unicodeScalars)
        var i = 0
        var name = ""
        while i < scalars.count, scalars[i] != "{", scalars[i] != " " { name.unicodeScalars.append(scalars[i]); i += 1 }
        guard Self.isMetricName(Substring(name)) else { throw ParseError(line: number, reason: "bad metric name '\(name)'") }
        var labels: [String: String] = [:]
        if i < scalars.count, scalars[i] == "{" {
            i += 1
            while i < scalars.count, scalars[i] != "}" {
                var label = ""
                while i < scalars.count, scalars[i] != "=" { label.unicodeScalars.append(scalars[i]); i += 1 }
                guard Self.isLabelName(Substring(label)) else { throw ParseError(line: number, reason: "bad label name '\(label)'") }
                guard i + 1 < scalars.count, scalars[i + 1] == "\"" else { throw ParseError(line: number, reason: "label value must be quoted") }
                i += 2
                var value = ""
                while i < scalars.count, scalars[i] != "\"" {
                    if scalars[i] == "\\" {
                        guard i + 1 < scalars.count else { throw ParseError(line: number, reason: "dangling escape") }
                        switch scalars[i + 1] {
                        case "\\": value += "\\"
                        case "\"": value += "\""
                        case "n": value += "\n"
                        default: throw ParseError(line: number, reason: "bad escape \\\(scalars[i + 1])")
                        }
                        i += 2
                    } else {
                        value.unicodeScalars.append(scalars[i])
                        i += 1
                    }
                }
                guard i < scalars.count else { throw ParseError(line: number, reason: "unterminated label value") }
                i += 1
                guard labels[label] == nil else { throw ParseError(line: number, reason: "label \(label) twice") }
                labels[label] = value
                if i < scalars.count, scalars[i] == "," { i += 1 }
            }
            guard i < scalars.count else { throw ParseError(line: number, reason: "unterminated label set") }
            i += 1
        }
        guard i < scalars.count, scalars[i] == " " else { throw ParseError(line: number, reason: "no value") }
        let rest = String(String.UnicodeScalarView(scalars[(i + 1)...])).split(separator: " ")
        guard (1...2).contains(rest.count), let value = Self.value(rest[0]) else {
            throw ParseError(line: number, reason: "bad value in '\(line)'")
        }
        if rest.count == 2, Int64(rest[1]) == nil { throw ParseError(line: number, reason: "bad timestamp") }
        return Sample(name: name, labels: labels, value: value)
    }

    /// Buckets cumulative and ending in `+Inf` equal to `_count`; `_sum` present; counters not negative.
    private func checkHistograms() throws {
        for family in families.values {
            if family.type == "counter", let negative = family.samples.first(where: { $0.value < 0 }) {
                throw ParseError(line: 0, reason: "negative counter \(negative.name)")
            }
            guard family.type == "histogram" else { continue }
            var series: [[String: String]: [Sample]] = [:]
            for sample in family.samples {
                var key = sample.labels
                key["le"] = nil
                series[key, default: []].append(sample)
            }
            for (labels, samples) in series {
                let buckets = samples.filter { $0.name == family.name + "_bucket" }
                    .map { (le: Self.value(Substring($0.labels["le"] ?? "")) ?? .nan, count: $0.value) }
                    .sorted { $0.le < $1.le }
                guard let last = buckets.last, last.le == .infinity else {
                    throw ParseError(line: 0, reason: "\(family.name)\(labels) has no +Inf bucket")
                }
                for (a, b) in zip(buckets, buckets.dropFirst()) where b.count < a.count {
                    throw ParseError(line: 0, reason: "\(family.name)\(labels) buckets are not cumulative")
                }
                guard let count = samples.first(where: { $0.name == family.name + "_count" }), count.value == last.count else {
                    throw ParseError(line: 0, reason: "\(family.name)\(labels): _count differs from the +Inf bucket")
                }
                guard samples.contains(where: { $0.name == family.name + "_sum" }) else {
                    throw ParseError(line: 0, reason: "\(family.name)\(labels) has no _sum")
                }
            }
        }
    }
}
