import Foundation

/// Runs the `kb` executable built beside the test bundle.
public enum CommandRunner {
    /// The `kb` binary in the same build folder as the running tests.
    public static var executable: URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = testBinary.deletingLastPathComponent()
        // The XCTest bundle is a folder on some platforms (…/kbPackageTests.xctest/Contents/…).
        while folder.path != "/" && !FileManager.default.fileExists(atPath: folder.appendingPathComponent("kb").path) {
            folder = folder.deletingLastPathComponent()
        }
        return folder.appendingPathComponent("kb")
    }

    public struct Result {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `kb arguments…` to completion.
    public static func run(_ arguments: [String], environment: [String: String] = [:],
                           prefix: [String] = []) throws -> Result {
        let process = try start(arguments, environment: environment, prefix: prefix)
        let out = process.standardOutputPipe.fileHandleForReading.readDataToEndOfFile()
        let err = process.standardErrorPipe.fileHandleForReading.readDataToEndOfFile()
        process.process.waitUntilExit()
        return Result(status: process.process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                      stderr: String(decoding: err, as: UTF8.self))
    }

    public struct Running {
        public let process: Process
        public let standardOutputPipe: Pipe
        public let standardErrorPipe: Pipe
    }

    /// Starts `kb arguments…` (optionally behind a wrapper such as `setpriv …`) without waiting.
    public static func start(_ arguments: [String], environment: [String: String] = [:],
                             prefix: [String] = []) throws -> Running {
        let process = Process()
        if prefix.isEmpty {
            process.executableURL = executable
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: prefix[0])
            process.arguments = Array(prefix.dropFirst()) + [executable.path] + arguments
        }
        var env = ProcessInfo.processInfo.environment
        env["KB_MODELS_DIR"] = TestSupport.modelsDirectory.path
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return Running(process: process, standardOutputPipe: out, standardErrorPipe: err)
    }
}
