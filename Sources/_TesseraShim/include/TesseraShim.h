// _TesseraShim: the few Linux calls and CPU instructions Swift cannot reach directly (they need
// _GNU_SOURCE or a compiler builtin). Underscored because it is an implementation detail of
// TesseraHost and of the kernels in TesseraOps, with no stable API.
#ifndef TESSERA_SHIM_H
#define TESSERA_SHIM_H

#include <pthread.h>

/// The CPU (OS index) the calling thread is running on right now, or -1 with errno set.
int tessera_sched_getcpu(void);

/// Writes the CPUs (OS indices, ascending) in the calling thread's affinity mask to `cpus`,
/// at most `capacity` of them, and returns how many the mask holds (which may exceed
/// `capacity`). Returns -errno if the mask cannot be read.
int tessera_current_thread_affinity(int *cpus, int capacity);

/// Names thread `thread` (at most 15 bytes kept) for debuggers and `top`; 0, or an error number.
int tessera_set_thread_name(pthread_t thread, const char *name);

/// Resident set size of this process in bytes (/proc/self/statm × page size), or -1.
long tessera_resident_bytes(void);

/// The largest resident set size this process has had since it started or since
/// tessera_reset_peak_resident, in bytes (VmHWM of /proc/self/status; getrusage's ru_maxrss
/// when that cannot be read), or -1.
long tessera_peak_resident_bytes(void);

/// Returns freed heap memory to the system (malloc_trim) and resets the peak resident set size
/// to the current one (writing 5 to /proc/self/clear_refs, Linux 4.0 and later; proc(5)).
/// Returns 0, or -errno.
int tessera_reset_peak_resident(void);

/// Makes malloc map every block of `threshold` bytes or more on its own pages (mmap), returned to
/// the system as soon as it is freed; 0, or -EINVAL if glibc refused.
int tessera_map_large_blocks(long threshold);

/// Returns the heap's free pages to the system (malloc_trim).
void tessera_return_freed_memory(void);

/// 1 when the CPU has AVX-512F and the operating system saves its registers (XCR0 holds the
/// opmask and the two ZMM states), so 32 vector registers of 512 bits can be used; else 0
/// (always 0 off x86-64). The kernels, built for the host CPU, pick their register blocks by it.
int tessera_has_avx512(void);

/// A spin-wait hint to the CPU (x86 `pause`, Arm `yield`): cheaper for the sibling
/// hyper-thread and for the memory system than a bare busy loop.
static inline void tessera_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

/// Asks the CPU to fetch the cache line holding `address` for writing (x86 `prefetchw`), so
/// that a later store does not wait for it; a hint only, it never faults.
static inline void tessera_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// Asks the CPU to fetch the cache line holding `address` for reading, so that a later load
/// finds it in cache; a hint only, it never faults.
static inline void tessera_prefetch_for_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
