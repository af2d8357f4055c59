#define _GNU_SOURCE
#include "TesseraShim.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

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
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) {
        return -1;
    }
    return usage.ru_maxrss * 1024L;
}
