import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file to ingest, found by ``SourceWalker``.
public struct SourceFile: Sendable, Equatable {
    /// Absolute path with symbolic links resolved: the document's identity.
    public var path: String
    /// The path as the user will recognise it (as given, or joined under a given directory).
    public var displayPath: String
    public var size: Int
    /// The format from the extension; nil for an explicitly named file with an unknown extension,
    /// which is read as plain text if it is not binary.
    public var format: DocumentFormat?
}

/// Something the walk could not use, with the reason.
public struct SourceIssue: Sendable, Equatable, Codable {
    public var source: String
    public var reason: String
    /// Failures are errors (missing input, unreadable directory); the rest are deliberate skips.
    public var isFailure: Bool
}

/// Expands the paths given to `kb ingest` into files: directories are walked recursively (hidden
/// entries skipped, symbolic links followed, loops detected), filtered by extension and globs.
public struct SourceWalker: Sendable {
    public var include: [Glob]
    public var exclude: [Glob]

    public init(include: [Glob] = [], exclude: [Glob] = []) {
        self.include = include
        self.exclude = exclude
    }

    /// The result of a walk.
    public struct Walk: Sendable {
        public var files: [SourceFile] = []
        public var issues: [SourceIssue] = []
        /// Real paths of the directories walked, each ending in "/" (for --prune).
        public var directories: [String] = []
    }

    public func walk(_ inputs: [String]) -> Walk {
        var walk = Walk()
        var seenFiles: [String: String] = [:]            // real path -> display path
        var visitedDirectories = Set<FileIdentity>()
        for input in inputs {
            guard let real = realPath(input) else {
                walk.issues.append(SourceIssue(source: input, reason: describe(errno: errno), isFailure: true))
                continue
            }
            var info = stat()
            guard stat(real, &info) == 0 else {
                walk.issues.append(SourceIssue(source: input, reason: describe(errno: errno), isFailure: true))
                continue
            }
            if isDirectory(info) {
                walk.directories.append(real.hasSuffix("/") ? real : real + "/")
                walkDirectory(real: real, display: input, relative: "", into: &walk,
                              seenFiles: &seenFiles, visited: &visitedDirectories)
            } else if isRegularFile(info) {
                let ext = (real as NSString).pathExtension
                add(SourceFile(path: real, displayPath: input, size: Int(info.st_size),
                               format: DocumentFormat(fileExtension: ext)), into: &walk, seenFiles: &seenFiles)
            } else {
                walk.issues.append(SourceIssue(source: input, reason: "not a regular file or directory", isFailure: true))
            }
        }
        return walk
    }

    private func walkDirectory(real: String, display: String, relative: String, into walk: inout Walk,
                               seenFiles: inout [String: String], visited: inout Set<FileIdentity>) {
        var info = stat()
        guard stat(real, &info) == 0 else { return }
        let identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        guard visited.insert(identity).inserted else {
            walk.issues.append(SourceIssue(source: display, reason: "symlink loop (directory already walked as \(real))",
                                           isFailure: false))
            return
        }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: real).sorted()
        } catch {
            walk.issues.append(SourceIssue(source: display, reason: "cannot read directory: \(describe(errno: EACCES))",
                                           isFailure: true))
            return
        }
        for name in entries where !name.hasPrefix(".") {
            let entryDisplay = display.hasSuffix("/") ? display + name : display + "/" + name
            let entryPath = real + "/" + name
            let entryRelative = relative.isEmpty ? name : relative + "/" + name
            var entryInfo = stat()
            guard lstat(entryPath, &entryInfo) == 0 else { continue }
            var target = entryPath
            if isSymlink(entryInfo) {
                guard let resolved = realPath(entryPath) else {
                    let reason = errno == ELOOP ? "symlink loop" : "broken symbolic link"
                    walk.issues.append(SourceIssue(source: entryDisplay, reason: reason, isFailure: false))
                    continue
                }
                guard stat(resolved, &entryInfo) == 0 else { continue }
                target = resolved
            }
            if exclude.contains(where: { $0.matches(relativePath: entryRelative) }) { continue }
            if isDirectory(entryInfo) {
                walkDirectory(real: target, display: entryDisplay, relative: entryRelative, into: &walk,
                              seenFiles: &seenFiles, visited: &visited)
                continue
            }
            guard isRegularFile(entryInfo) else { continue }
            let ext = (name as NSString).pathExtension
            let format = DocumentFormat(fileExtension: ext)
            if include.isEmpty {
                guard format != nil else {
                    walk.issues.append(SourceIssue(
                        source: entryDisplay, reason: ext.isEmpty ? "unsupported file type (no extension)"
                            : "unsupported file type (.\(ext.lowercased()))", isFailure: false))
                    continue
                }
            } else if !include.contains(where: { $0.matches(relativePath: entryRelative) }) {
                continue
            }
            add(SourceFile(path: realPath(target) ?? target, displayPath: entryDisplay, size: Int(entryInfo.st_size),
                           format: format), into: &walk, seenFiles: &seenFiles)
        }
    }

    private func add(_ file: SourceFile, into walk: inout Walk, seenFiles: inout [String: String]) {
        if let first = seenFiles[file.path] {
            walk.issues.append(SourceIssue(source: file.displayPath, reason: "same file as \(first)", isFailure: false))
            return
        }
        seenFiles[file.path] = file.displayPath
        walk.files.append(file)
    }
}

/// Device and inode: identifies a directory however it was reached.
struct FileIdentity: Hashable {
    var device: UInt64
    var inode: UInt64
}

func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

func describe(errno code: Int32) -> String {
    switch code {
    case ENOENT: return "no such file or directory"
    case EACCES: return "permission denied"
    case ELOOP: return "symlink loop"
    case ENOTDIR: return "a path component is not a directory"
    default: return String(cString: strerror(code))
    }
}

private func isDirectory(_ info: stat) -> Bool { (info.st_mode & S_IFMT) == S_IFDIR }
private func isRegularFile(_ info: stat) -> Bool { (info.st_mode & S_IFMT) == S_IFREG }
private func isSymlink(_ info: stat) -> Bool { (info.st_mode & S_IFMT) == S_IFLNK }
