import _TesseraShim

/// Host memory statistics of this process, for comparing real host usage with simulated bytes.
public enum HostMemory {
    /// Resident set size of this process in bytes (`/proc/self/statm` resident pages × page
    /// size): memory actually committed, so untouched arena pages do not count. 0 if unreadable.
    public static func residentBytes() -> Int {
        max(tessera_resident_bytes(), 0)
    }

    /// The largest resident set size this process has had so far, in bytes (`getrusage`'s
    /// `ru_maxrss`): the peak of compiling and running, not only what is held now. 0 if unreadable.
    public static func peakResidentBytes() -> Int {
        max(tessera_peak_resident_bytes(), 0)
    }
}
