/* netmodel/profile.h: SimGrid-style value profiles (availability, speed, bandwidth).
 *
 * File format, one item per line:
 *
 *     # comment (from '#' to the end of the line; blank lines are ignored)
 *     0      1        <- time (seconds) and value: from time 0 the value is 1
 *     3600   0.5      <- from 3600 s the value is 0.5
 *     LOOPAFTER 600   <- optional, at most once, anywhere in the file
 *
 * Semantics.
 *   - An event "t v" says the value becomes v at time t. Before the first event the
 *     profile says nothing: nm_profile_value_at returns the caller's default.
 *   - Times are >= 0 and strictly increasing (two events at the same time would leave
 *     the value ambiguous, so they are an error, as are times that round to the same
 *     nanosecond). They are stored as integer nanoseconds (nm_time), rounded to nearest.
 *   - LOOPAFTER p (SimGrid's meaning): after the last event at t_last, wait p seconds,
 *     then replay the whole list with times relative to the new loop start, forever.
 *     One loop lasts L = t_last + p, so event i of loop k happens at k*L + t_i
 *     (computed in integer nanoseconds, so no drift however many loops). Between a loop
 *     start and that loop's first event the last value of the previous loop holds.
 *     p must be > 0 (p = 0 would put the last event of a loop and the first event of
 *     the next at the same instant when t_0 = 0); any p > 0 is well defined, whatever
 *     t_last is. LOOPAFTER in a profile without events is an error.
 *   - A profile without any event is an error (an empty file is almost surely a
 *     mistake; a constant is written as a single event at time 0).
 *   - Values must lie in the range the caller gives (nm_value_range): e.g. a state is
 *     0 or 1, a speed or bandwidth multiplier is finite and > 0.
 *   - Numbers are C floating-point literals; nan, inf, out-of-range literals and
 *     anything after the value ("trailing garbage") are errors. CRLF line ends are
 *     accepted. NUL bytes are not.
 *
 * Errors are written as "name:line: message" into the caller's buffer and the parser
 * returns NULL; the caller turns that into exit code 2. Nothing is clamped or guessed.
 *
 * Queries. nm_profile_value_at(t) gives the value in force at time t. A cursor walks
 * the (possibly infinite) sequence of changes without materialising it: seek to the
 * first event at or after t, peek its time and value, advance. The sequence ends
 * (peek returns 0) after the last event of a profile without LOOPAFTER, or when the
 * next time would not fit in nm_time.
 */
#ifndef NETMODEL_PROFILE_H
#define NETMODEL_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "netmodel/event.h"

/* Allowed values: min..max, each end open or closed; `integral` demands whole numbers.
 * `what` names the quantity in error messages, e.g. "a state (0 or 1)". */
typedef struct nm_value_range {
    double min, max;
    int min_open, max_open;
    int integral;
    const char *what;
} nm_value_range;

nm_value_range nm_range_state(void);      /* 0 or 1 */
nm_value_range nm_range_multiplier(void); /* finite, > 0 */
nm_value_range nm_range_any(void);        /* any finite value */
/* 1 if v lies in r. */
int nm_range_contains(const nm_value_range *r, double v);

typedef struct nm_profile nm_profile;

/* Parse `text` (NUL-terminated); `name` stands for the file in messages. On error
 * returns NULL and writes "name:line: message" to err (errlen bytes, may be 0). */
nm_profile *nm_profile_parse_string(const char *text, const char *name, const nm_value_range *range,
                                    char *err, size_t errlen);
/* Read and parse a file; messages use its path as the name. */
nm_profile *nm_profile_parse_file(const char *path, const nm_value_range *range, char *err,
                                  size_t errlen);
void nm_profile_free(nm_profile *p);

const char *nm_profile_name(const nm_profile *p);
size_t nm_profile_count(const nm_profile *p); /* events in one loop */
/* Event i (0 <= i < count) of the first loop. */
nm_time nm_profile_event_time(const nm_profile *p, size_t i);
double nm_profile_event_value(const nm_profile *p, size_t i);
/* LOOPAFTER period in ns, or -1 if the profile does not loop. */
nm_time nm_profile_loop_after(const nm_profile *p);
/* 1 if every value lies in r (checks a parsed profile against a stricter use). */
int nm_profile_values_in(const nm_profile *p, const nm_value_range *r);

/* Value in force at time t: that of the latest event at or before t, or dflt when no
 * event has happened yet. */
double nm_profile_value_at(const nm_profile *p, nm_time t, double dflt);

/* Cursor over the sequence of events across loops. */
typedef struct nm_profile_cursor {
    size_t index; /* event index within the loop */
    int64_t loop; /* loop number, 0 for the first pass */
} nm_profile_cursor;

/* Position c at the first event at or after time t (t < 0 counts as 0). */
void nm_profile_seek(const nm_profile *p, nm_time t, nm_profile_cursor *c);
/* Time and value of the event at c; returns 0 when the sequence has ended. */
int nm_profile_peek(const nm_profile *p, const nm_profile_cursor *c, nm_time *t, double *v);
/* Move c to the following event. */
void nm_profile_advance(const nm_profile *p, nm_profile_cursor *c);
/* Convenience: the first event strictly after t. Returns 0 if there is none. */
int nm_profile_next_after(const nm_profile *p, nm_time t, nm_time *next_t, double *next_v);

#endif
