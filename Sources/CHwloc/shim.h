// hwloc (libhwloc-dev) imported into Swift as the system module CHwloc.
#ifndef TESSERA_CHWLOC_SHIM_H
#define TESSERA_CHWLOC_SHIM_H
#include <hwloc.h>
#endif
