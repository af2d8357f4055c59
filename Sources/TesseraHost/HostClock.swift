import Glibc

/// Host time of this process, for reports of how fast the simulation itself runs.
public enum HostClock {
    /// CPU seconds this process has used so far, over all its threads (`CLOCK_PROCESS_CPUTIME_ID`):
    /// steadier than wall time when other work shares the cores, and with one worker thread
    /// a measure of the work done that spinning at barriers does not inflate.
    public static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}
