import Foundation

/// The memory this process can count on: the machine's, or its control group's limit when lower
/// (a container's `--memory`).
enum MemoryLimit {
    /// Bytes; the machine's physical memory when no lower limit is set.
    static var bytes: Int {
        var limit = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        // cgroup v2, then v1 ("max" or a huge number when unlimited).
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                  let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), value > 0
            else { continue }
            limit = min(limit, value)
        }
        return limit
    }
}
