import _TesseraShim

/// Host memory statistics of this process, for comparing real host usage with simulated bytes.
public enum HostMemory {
    /// Resident set size of this process in bytes (`/proc/self/statm` resident pages × page
    /// size): memory actually committed, so untouched arena pages do not count. 0 if unreadable.
    public static func residentBytes() -> Int {
        max(tessera_resident_bytes(), 0)
    }
}
