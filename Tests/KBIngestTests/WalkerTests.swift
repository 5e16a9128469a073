import Foundation
import KBTestSupport
import XCTest
@testable import KBIngest

final class WalkerTests: XCTestCase {
    func testGlobs() {
        XCTAssertTrue(Glob("*.md").matches(relativePath: "docs/guide.md"))
        XCTAssertFalse(Glob("*.md").matches(relativePath: "docs/guide.mdx"))
        XCTAssertTrue(Glob("docs/*.md").matches(relativePath: "docs/guide.md"))
        XCTAssertFalse(Glob("docs/*.md").matches(relativePath: "docs/sub/guide.md"))
        XCTAssertTrue(Glob("docs/**/*.md").matches(relativePath: "docs/sub/deeper/guide.md"))
        XCTAssertTrue(Glob("docs/**/*.md").matches(relativePath: "docs/guide.md"))
        XCTAssertTrue(Glob("**/drafts").matches(relativePath: "a/b/drafts"))
        XCTAssertTrue(Glob("file?.txt").matches(relativePath: "file1.txt"))
        XCTAssertTrue(Glob("[a-c]*.txt").matches(relativePath: "beta.txt"))
        XCTAssertFalse(Glob("[!a-c]*.txt").matches(relativePath: "beta.txt"))
    }

    func testWalkFiltersByExtensionSkipsHiddenAndHonoursGlobs() throws {
        let root = try TestSupport.temporaryDirectory(self)
        try TestSupport.write("a", to: "a.md", in: root)
        try TestSupport.write("b", to: "sub/b.txt", in: root)
        try TestSupport.write("c", to: "sub/drafts/c.md", in: root)
        try TestSupport.write("d", to: ".git/d.txt", in: root)
        try TestSupport.write("e", to: "image.png", in: root)
        let walk = SourceWalker(exclude: [Glob("drafts")]).walk([root.path])
        XCTAssertEqual(walk.files.map { ($0.path as NSString).lastPathComponent }.sorted(), ["a.md", "b.txt"])
        XCTAssertEqual(walk.issues.map(\.reason), ["unsupported file type (.png)"])
        let included = SourceWalker(include: [Glob("*.png")]).walk([root.path])
        XCTAssertEqual(included.files.map { ($0.path as NSString).lastPathComponent }, ["image.png"])
    }

    func testSymlinkLoopsAreReportedAndDoNotHang() throws {
        let root = try TestSupport.temporaryDirectory(self)
        try TestSupport.write("x", to: "dir/doc.md", in: root)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("dir/back").path,
                                                   withDestinationPath: root.appendingPathComponent("dir").path)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("dir/self.md").path,
                                                   withDestinationPath: root.appendingPathComponent("dir/self.md").path)
        let walk = SourceWalker().walk([root.path])
        XCTAssertEqual(walk.files.count, 1)
        XCTAssertTrue(walk.issues.contains { $0.source.hasSuffix("dir/back") && $0.reason.contains("symlink loop") },
                      "\(walk.issues)")
        XCTAssertTrue(walk.issues.contains { $0.source.hasSuffix("self.md") && $0.reason.contains("symlink loop") },
                      "\(walk.issues)")
    }

    func testAFileReachedTwiceIsWalkedOnce() throws {
        let root = try TestSupport.temporaryDirectory(self)
        let file = try TestSupport.write("x", to: "doc.md", in: root)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("alias.md").path,
                                                   withDestinationPath: file.path)
        let walk = SourceWalker().walk([root.path, file.path])
        XCTAssertEqual(walk.files.count, 1)
        XCTAssertEqual(walk.issues.filter { $0.reason.hasPrefix("same file as") }.count, 2)
    }

    func testMissingInputIsAFailureNamingIt() {
        let walk = SourceWalker().walk(["/nonexistent/kb/input"])
        XCTAssertEqual(walk.issues, [SourceIssue(source: "/nonexistent/kb/input", reason: "no such file or directory",
                                                 isFailure: true)])
    }
}
