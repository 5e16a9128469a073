import Foundation
import ZIPFoundation

/// An Office Open XML file (DOCX, PPTX, XLSX) or an OpenDocument file (ODT, ODS, ODP): a ZIP archive
/// of XML parts, read with ZIPFoundation.
///
/// Every part is inflated under one budget of uncompressed bytes, counted as the bytes come out (the
/// sizes an archive declares can lie), so a ZIP bomb stops at the budget instead of filling memory.
final class OfficePackage {
    /// Uncompressed bytes read from one file, all parts together.
    static let maxUncompressedBytes = 128 << 20

    private let archive: Archive
    private var budget: Int

    /// - Throws: ``ReadError/damaged(_:)`` when the file is not a ZIP archive.
    init(path: String, budget: Int = OfficePackage.maxUncompressedBytes) throws {
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw ReadError.damaged("not a ZIP archive (as DOCX, PPTX and XLSX files are)")
        }
        self.budget = budget
    }

    func contains(_ path: String) -> Bool { archive[path] != nil }

    /// The part's bytes, or nil when the archive has no such part.
    /// - Throws: ``ReadError/overLimit(_:)`` past the budget, ``ReadError/damaged(_:)`` for a bad entry.
    func data(_ path: String) throws -> Data? {
        guard let entry = archive[path], entry.type == .file else { return nil }
        var data = Data()
        let limit = budget
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                guard data.count + chunk.count <= limit else { throw BudgetExceeded() }
                data.append(chunk)
            }
        } catch is BudgetExceeded {
            throw ReadError.overLimit("\(path) inflates past \(ByteCount.format(Self.maxUncompressedBytes)) "
                + "(a ZIP bomb?); read stopped there")
        } catch {
            throw ReadError.damaged("cannot inflate \(path) from the ZIP archive (\(error))")
        }
        budget -= data.count
        return data
    }

    /// The part parsed as XML, or nil when absent.
    func xml(_ path: String, skipping: Set<String> = [], mixedText: Bool = false) throws -> XMLTree.Element? {
        guard let data = try data(path) else { return nil }
        return try XMLTree.parse(data, part: path, skipping: skipping, mixedText: mixedText)
    }

    /// Relationship id → part path, from the `_rels` file of `part` (targets resolved against its folder).
    func relationships(of part: String) throws -> [String: (target: String, type: String)] {
        let folder = (part as NSString).deletingLastPathComponent
        let relsPath = (folder.isEmpty ? "" : folder + "/") + "_rels/" + (part as NSString).lastPathComponent + ".rels"
        guard let root = try xml(relsPath) else { return [:] }
        var result: [String: (target: String, type: String)] = [:]
        for relationship in root.children where relationship.name == "Relationship" {
            guard let id = relationship["Id"], let target = relationship["Target"],
                  relationship["TargetMode"] != "External" else { continue }
            result[id] = (Self.resolve(target, from: folder), relationship["Type"] ?? "")
        }
        return result
    }

    /// `target` relative to `folder` ("../notesSlides/n1.xml" from "ppt/slides"), or absolute ("/xl/…").
    static func resolve(_ target: String, from folder: String) -> String {
        var parts = target.hasPrefix("/") ? [] : folder.split(separator: "/").map(String.init)
        for component in target.split(separator: "/") {
            if component == ".." { if !parts.isEmpty { parts.removeLast() } } else if component != "." {
                parts.append(String(component))
            }
        }
        return parts.joined(separator: "/")
    }

    private struct BudgetExceeded: Error {}
}
