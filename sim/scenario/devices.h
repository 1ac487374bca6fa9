/* sim/scenario/devices.h: the device table (scenarios/devices.cfg).
 *
 * One row per accelerator: its name, dense bf16 peak (tensor cores, fp32 accumulate,
 * no sparsity) from the vendor's datasheet, memory size and bandwidth, and a price per
 * GPU-hour where one is published. Every row cites its source in the file; the table
 * keeps the citation strings so reports can print them.
 *
 * File format (libconfig):
 *   devices = ( { name = "A100-80GB"; bf16_tflops = 312.0; memory_gb = 80.0;
 *                 memory_bw_gbs = 2039.0; source = "...";
 *                 price_per_hour = 1.25; price_source = "..."; }, ... );
 * price_per_hour and price_source come together or not at all. Unknown keys, wrong
 * types, non-positive figures and duplicate names are errors with file:line.
 */
#ifndef SIM_DEVICES_H
#define SIM_DEVICES_H

#include <stddef.h>

typedef struct {
    char *name;
    double bf16_flops;            /* dense bf16 peak, FLOP/s */
    double memory_bytes;          /* device memory, bytes (GB = 1e9 B) */
    double memory_bw_bytes_per_s; /* device memory bandwidth, bytes/s */
    double price_per_hour;        /* USD per GPU-hour; NaN when no published figure */
    char *source;                 /* datasheet citation */
    char *price_source;           /* NULL when there is no price */
} sim_device;

typedef struct {
    char *path; /* the file read */
    sim_device *dev;
    int n;
} sim_device_table;

/* Load a device table. 0, or EXIT_INPUT with err filled ("FILE:LINE: key: message"). */
int sim_devices_load(const char *path, sim_device_table *out, char *err, size_t errlen);
/* Index of a device by exact name, or -1. */
int sim_devices_find(const sim_device_table *t, const char *name);
/* The closest name (for "did you mean"), or NULL when nothing is close. */
const char *sim_devices_suggest(const sim_device_table *t, const char *name);
void sim_devices_free(sim_device_table *t);

#endif
