import Foundation

extension IngestPipeline {
    /// PDF and Office files (by name or content) go to ``BinaryDocumentReader`` instead of the text
    /// readers; nil leaves the file to them. A scanned PDF with no text at all is skipped, not failed.
    func readBinaryDocument(_ file: SourceFile, data: Data) -> ItemResult? {
        let stem = ((file.path as NSString).lastPathComponent as NSString).deletingPathExtension
        do {
            guard let parsed = try BinaryDocumentReader.read(path: file.path, data: data, declared: file.format,
                                                             fileStem: stem) else { return nil }
            return prepare(parsed, namespace: .ingest, uri: file.path, sourcePath: file.path, location: file.displayPath,
                           dedupe: true, warning: parsed.warnings.isEmpty ? nil : parsed.warnings.joined(separator: "; "))
        } catch let error as ReadError {
            if case .needsOCR = error {
                return .skipped(location: file.displayPath, reason: error.description, sourcePath: file.path)
            }
            return .failed(location: file.displayPath, reason: error.description, sourcePath: file.path)
        } catch {
            return .failed(location: file.displayPath, reason: "cannot read: \(error)", sourcePath: file.path)
        }
    }
}
