/* sim/flows/flows_csv.h: flow lists and results as CSV, the fast path of `orionsim flows`.
 *
 * Input, `orionsim flows NET.cfg FLOWS.csv`: the network from a flows file without flows
 * (flows_net_load, sim/flows/flows_file.h), the flows from a CSV file:
 *
 *   flow,src,dst,bytes,start_s          the header, exactly
 *   0,p3,p6,2304000,0.000058            one flow a line; flow numbers 0, 1, 2, ... in order
 *
 * src and dst name nodes of the network (different ones); bytes is a decimal integer
 * from 0 to 2^53 - 1; start_s a finite number of seconds from 0 to 1e9 (strtod syntax,
 * the same value as in a flows file). Lines may end in CRLF; the last newline is
 * optional. Every problem is reported as "FILE:LINE: column: message" and makes the
 * loader return EXIT_INPUT, like flows_spec_load. The file is read in one piece and
 * parsed in place, node names looked up in a hash table: no per-row allocation.
 *
 * Output: flows_csv_write formats the rows of flows_spec_run's CSV into a 64 KiB buffer
 * by hand (integers and nanosecond times without printf), byte for byte what the
 * printf version wrote.
 */
#ifndef SIM_FLOWS_CSV_H
#define SIM_FLOWS_CSV_H

#include <stdio.h>

#include "netmodel/event.h"
#include "sim/flows/flows_file.h"

/* Append the flows of the CSV file `path` to spec (its network loaded, no flows yet).
 * 0, or EXIT_INPUT with the message on err; spec stays safe to free. */
int flows_csv_load(const char *path, flows_spec *spec, FILE *err);

/* The result CSV: header flow,src,dst,bytes,start_s,finish_s, then one row per flow in
 * input order, times as seconds with nine decimals from finish[i] (ns). 0, or -1 when
 * writing failed. */
int flows_csv_write(const flows_spec *spec, const nm_time *finish, FILE *out);

#endif
