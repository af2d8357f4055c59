import _TesseraShim

/// Host memory statistics of this process, for comparing real host usage with simulated bytes.
public enum HostMemory {
    /// Resident set size of this process in bytes (`/proc/self/statm` resident pages × page
    /// size): memory actually committed, so untouched arena pages do not count. 0 if unreadable.
    public static func residentBytes() -> Int {
        max(tessera_resident_bytes(), 0)
    }

    /// The largest resident set size this process has had since it started or since the last
    /// ``resetPeak()``, in bytes (`VmHWM`): the peak of compiling and running, not only what is
    /// held now. 0 if unreadable.
    public static func peakResidentBytes() -> Int {
        max(tessera_peak_resident_bytes(), 0)
    }

    /// Returns freed heap memory to the system and starts the peak over from the current resident
    /// size, so that the next ``peakResidentBytes()`` is the peak of what runs from here (one model
    /// of several in a benchmark). False if the kernel does not allow it.
    @discardableResult
    public static func resetPeak() -> Bool {
        tessera_reset_peak_resident() == 0
    }
}
