import Foundation
import KBIngest

/// A one-line progress display on a terminal: bar, documents, docs/s and time left.
struct ProgressBar {
    private var lastDraw = Date.distantPast

    mutating func update(_ progress: IngestProgress, force: Bool = false) {
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let fraction = progress.bytesTotal > 0 ? min(1, Double(progress.bytesDone) / Double(progress.bytesTotal)) : 1
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let documents = progress.report.processed
        let rate = progress.elapsedSeconds > 0 ? Double(documents) / progress.elapsedSeconds : 0
        var eta = "--:--"
        if fraction > 0.001 && fraction < 1 {
            eta = Self.clock(progress.elapsedSeconds * (1 - fraction) / fraction)
        } else if fraction >= 1 {
            eta = "0:00"
        }
        let line = String(format: "%@ %3.0f%%  %@ docs  %@ docs/s  ETA %@", bar, fraction * 100,
                          Self.grouped(documents), Self.grouped(Int(rate)), eta)
        StandardError.write("\r\u{1B}[2K" + line)
    }

    func finish() { StandardError.write("\r\u{1B}[2K") }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
            : String(format: "%d:%02d", total / 60, total % 60)
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }
}
