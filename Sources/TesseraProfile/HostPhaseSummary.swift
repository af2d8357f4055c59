import Foundation
import TesseraRuntime

extension HostPhaseTimes {
    /// One line on where the host's workers spent the run: each phase's thread-seconds and share,
    /// the copies' bytes and rate per thread, and the floor those copies put under the run's wall time.
    public var summary: String {
        func seconds(_ value: Double) -> String { String(format: "%.3f s", value) }
        func share(_ value: Double) -> String { String(format: "%.0f%%", 100 * value / max(totalSeconds, .leastNonzeroMagnitude)) }
        return "\(threads) thread\(threads == 1 ? "" : "s"), \(seconds(totalSeconds)) of thread time: "
            + "copies \(seconds(copySeconds)) (\(share(copySeconds)); \(String(format: "%.2f", Double(copiedBytes) / 1e9)) GB "
            + "at \(String(format: "%.2f", copyBytesPerSecond / 1e9)) GB/s per thread), "
            + "vertices \(seconds(vertexSeconds)) (\(share(vertexSeconds))), barrier waits \(seconds(waitSeconds)) (\(share(waitSeconds))), "
            + "other \(seconds(otherSeconds)); the copies alone need \(seconds(copyFloorSeconds)) of wall time at this rate"
    }
}
