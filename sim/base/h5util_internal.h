/* sim/base/h5util_internal.h: what h5util.c shares with h5open.c only. */
#ifndef SIM_BASE_H5UTIL_INTERNAL_H
#define SIM_BASE_H5UTIL_INTERNAL_H

#include <hdf5.h>
#include <stddef.h>

/* The strings of a string attribute (is_attr) or dataset `obj` of file type ft and
 * dataspace sp: *out gets *n malloc'd strings. 0, or -1 with a reason naming `name`. */
int h5u_read_strings(hid_t obj, hid_t ft, hid_t sp, int is_attr, const char *name, char ***out,
                     size_t *n, char *err, size_t errlen);

#endif
