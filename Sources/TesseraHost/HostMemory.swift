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

    /// Makes the allocator give every block of `threshold` bytes or more its own pages, returned
    /// to the system as soon as the block is freed. Otherwise glibc raises its threshold (up to
    /// 32 MiB) each time such a block is freed; from then on a compile's large temporary arrays
    /// come from the heap and stay resident once freed (about 80 MB at EfficientNet-B0's compile
    /// peak). The default, 4 MiB, keeps the smaller blocks a compile frees and allocates again
    /// in the heap, whose pages are already faulted in (docs/host-platform.md). Call once, before
    /// building a model. False if the allocator refused.
    @discardableResult
    public static func mapLargeBlocks(threshold: Int = 4 << 20) -> Bool {
        tessera_map_large_blocks(threshold) == 0
    }

    /// Returns the heap's free pages to the system: what a compile has freed, before a run
    /// touches the tiles' memory.
    public static func returnFreedMemory() {
        tessera_return_freed_memory()
    }

    /// Returns freed heap memory to the system and starts the peak over from the current resident
    /// size, so that the next ``peakResidentBytes()`` is the peak of what runs from here (one model
    /// of several in a benchmark). False if the kernel does not allow it.
    @discardableResult
    public static func resetPeak() -> Bool {
        tessera_reset_peak_resident() == 0
    }
}
