import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a helper program (poppler's `pdftotext`) in a child process under limits, so that a malicious
/// or huge file can cost the child its life but never kb its memory or its time, and so that GPL code
/// stays outside kb's binary.
///
/// The child runs as `/bin/sh -c 'ulimit -v …; ulimit -t …; exec "$@"'` (address space and CPU limits
/// set in the child before the program starts; arguments are passed as positional parameters, never
/// spliced into the script). kb enforces a wall-clock deadline and a cap on standard output, killing the
/// child (SIGKILL) when either is passed. Foundation's `Process` cannot set limits in the child and reads
/// pipes unboundedly, hence posix_spawn and poll here.
struct ChildProcess {
    struct Limits: Sendable {
        /// Wall-clock seconds before the child is killed.
        var seconds: Double
        /// Address-space limit of the child (`ulimit -v`), in bytes.
        var memoryBytes: Int
        /// Bytes of standard output kept; past this the child is killed.
        var maxOutputBytes: Int
    }

    struct Output {
        var status: Int32
        var stdout: Data
        /// The last few KiB of standard error.
        var stderr: String
    }

    enum Failure: Error {
        case cannotStart(String)
        case timedOut(seconds: Double)
        case outputTooLarge(bytes: Int)
        case killed(signal: Int32, stderr: String)
    }

    static let stderrKeptBytes = 4096

    /// Runs `program` (found on PATH) with `arguments`.
    /// - Throws: ``Failure``; a non-zero exit status is returned, not thrown.
    static func run(_ program: String, _ arguments: [String], limits: Limits) throws -> Output {
        let script = "ulimit -v \"$1\" && ulimit -t \"$2\" && shift 2 && exec \"$@\""
        let cpuSeconds = max(1, Int(limits.seconds.rounded(.up)))
        let argv = ["/bin/sh", "-c", script, "sh", String(max(1, limits.memoryBytes / 1024)), String(cpuSeconds),
                    program] + arguments

        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        // Close-on-exec, so that children spawned by other workers do not inherit them (pipe2 is not
        // imported into Swift; the window between pipe and fcntl only delays another child's EOF).
        guard pipe(&outPipe) == 0 else { throw Failure.cannotStart(String(cString: strerror(errno))) }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw Failure.cannotStart(String(cString: strerror(errno)))
        }
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

        let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, cArguments, environ)
        close(outPipe[1])
        close(errPipe[1])
        defer { close(outPipe[0]); close(errPipe[0]) }
        guard spawned == 0 else { throw Failure.cannotStart(String(cString: strerror(spawned))) }

        var stdout = Data()
        var stderr = Data()
        var failure: Failure?
        let deadline = Date().addingTimeInterval(limits.seconds)
        var open = [outPipe[0], errPipe[0]]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty && failure == nil {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { failure = .timedOut(seconds: limits.seconds); break }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining * 1000, 1000).rounded(.up)))
            if ready < 0 {
                if errno == EINTR { continue }
                failure = .cannotStart(String(cString: strerror(errno)))
                break
            }
            for entry in fds where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count <= 0 {
                    if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                    open.removeAll { $0 == entry.fd }
                    continue
                }
                if entry.fd == outPipe[0] {
                    stdout.append(buffer, count: count)
                    if stdout.count > limits.maxOutputBytes { failure = .outputTooLarge(bytes: stdout.count) }
                } else {
                    stderr.append(buffer, count: count)
                    if stderr.count > 2 * stderrKeptBytes { stderr = stderr.suffix(stderrKeptBytes) }
                }
            }
        }
        if failure != nil { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if let failure { throw failure }
        let errorText = String(decoding: stderr.suffix(stderrKeptBytes), as: UTF8.self)
        // WIFSIGNALED / WEXITSTATUS, which Swift does not import (they are macros).
        let signal = status & 0x7f
        if signal != 0 {
            // SIGXCPU is the CPU limit; SIGKILL/SIGSEGV/SIGABRT are often the memory limit.
            if signal == SIGXCPU { throw Failure.timedOut(seconds: limits.seconds) }
            throw Failure.killed(signal: signal, stderr: errorText)
        }
        return Output(status: (status >> 8) & 0xff, stdout: stdout, stderr: errorText)
    }
}
