import _TesseraShim

/// The calling thread's affinity mask (OS CPU indices) as the kernel reports it.
func currentAffinity() -> [Int] {
    var cpus = [Int32](repeating: -1, count: 1024)
    let count = Int(tessera_current_thread_affinity(&cpus, Int32(cpus.count)))
    return cpus.prefix(max(count, 0)).map(Int.init)
}

/// One slot per worker, each written only by its worker inside `run`; `run` returning orders
/// those writes before the caller's reads.
final class PerWorker<Value>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<Value>
    init(count: Int, initial: Value) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: initial)
    }
    deinit {
        slots.deinitialize()
        slots.deallocate()
    }
    subscript(worker: Int) -> Value {
        get { slots[worker] }
        set { slots[worker] = newValue }
    }
}
