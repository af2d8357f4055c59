import Glibc
import _TesseraShim

/// A POSIX thread that can be joined: ``join()`` returns only once the thread has exited entirely,
/// its thread-local destructors included. A Foundation `Thread` cannot be joined, so whoever frees
/// what it used (the pool's state, the hwloc topology) could race with the end of its exit.
final class JoinableThread {
    private let handle: pthread_t
    private var joined = false

    /// The closure a new thread runs, passed through `pthread_create`'s context pointer.
    private final class Entry {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts a thread running `body`, named `name` (cut to 15 bytes, Linux's limit) for debuggers and `top`.
    init(name: String, _ body: @escaping () -> Void) throws(HostError) {
        let context = Unmanaged.passRetained(Entry(body)).toOpaque()
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, { context in
            Unmanaged<Entry>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<Entry>.fromOpaque(context).release()
            throw .threadStartFailed(name: name, reason: errnoDescription(status))
        }
        self.handle = handle
        _ = tessera_set_thread_name(handle, name)
    }

    /// Waits until the thread has exited. Call once, after making its body return.
    func join() {
        precondition(!joined, "JoinableThread joined twice")
        joined = true
        pthread_join(handle, nil)
    }
}
