#define _GNU_SOURCE
#include "TesseraShim.h"

#include <errno.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

int tessera_set_thread_name(pthread_t thread, const char *name) {
    char truncated[16];
    snprintf(truncated, sizeof truncated, "%s", name);
    return pthread_setname_np(thread, truncated);
}

int tessera_sched_getcpu(void) {
    return sched_getcpu();
}

int tessera_current_thread_affinity(int *cpus, int capacity) {
    cpu_set_t set;
    CPU_ZERO(&set);
    int rc = pthread_getaffinity_np(pthread_self(), sizeof(set), &set);
    if (rc != 0) {
        return -rc;
    }
    int count = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &set)) {
            if (count < capacity) {
                cpus[count] = cpu;
            }
            count++;
        }
    }
    return count;
}

long tessera_resident_bytes(void) {
    FILE *statm = fopen("/proc/self/statm", "r");
    if (statm == NULL) {
        return -1;
    }
    long sizePages = 0, residentPages = 0;
    int fields = fscanf(statm, "%ld %ld", &sizePages, &residentPages);
    fclose(statm);
    if (fields != 2) {
        return -1;
    }
    return residentPages * sysconf(_SC_PAGESIZE);
}

long tessera_peak_resident_bytes(void) {
    // VmHWM of /proc/self/status, which tessera_reset_peak_resident resets; getrusage's
    // ru_maxrss (which nothing resets) where /proc is not readable.
    FILE *status = fopen("/proc/self/status", "r");
    if (status != NULL) {
        char line[256];
        long kilobytes = -1;
        while (fgets(line, sizeof(line), status) != NULL) {
            if (sscanf(line, "VmHWM: %ld kB", &kilobytes) == 1) {
                break;
            }
        }
        fclose(status);
        if (kilobytes >= 0) {
            return kilobytes * 1024L;
        }
    }
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) {
        return -1;
    }
    return usage.ru_maxrss * 1024L;
}

int tessera_reset_peak_resident(void) {
    tessera_return_freed_memory();
    FILE *refs = fopen("/proc/self/clear_refs", "w");
    if (refs == NULL) {
        return -errno;
    }
    int written = fputs("5", refs);
    int closed = fclose(refs);
    return written < 0 || closed != 0 ? -EIO : 0;
}

int tessera_map_large_blocks(long threshold) {
    // Setting the threshold also stops glibc from raising it each time a mapped block is freed.
    return mallopt(M_MMAP_THRESHOLD, (int)threshold) == 1 ? 0 : -EINVAL;
}

void tessera_return_freed_memory(void) {
    malloc_trim(0);
}

int tessera_has_avx512(void) {
#if defined(__x86_64__)
    unsigned int eax, ebx, ecx, edx;
    // CPUID.1:ECX.OSXSAVE (bit 27): XGETBV may be used to read XCR0.
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) {
        return 0;
    }
    // CPUID.(EAX=7,ECX=0):EBX.AVX512F (bit 16).
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) || !(ebx & (1u << 16))) {
        return 0;
    }
    unsigned int low, high;
    __asm__ ("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    // XCR0 bits 1, 2 (SSE, AVX) and 5, 6, 7 (opmask, ZMM0-15 upper halves, ZMM16-31).
    const unsigned int needed = 0xE6;
    return (low & needed) == needed;
#else
    return 0;
#endif
}
