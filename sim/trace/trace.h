/* sim/trace/trace.h: the HDF5 trace of one run (writer). Schema: results/README.md.
 *
 * One file per run:
 *   /            attributes schema_version (= TRACE_SCHEMA_VERSION), orionsim_version,
 *                scenario_path, seed, created, mode, complete, and the machine:
 *                platform_cpu, _cores, _blas, _blas_version, _blas_threads, _omp_threads,
 *                _backend, _gpu (sim/base/platform.h)
 *   /scenario    the scenario file text, verbatim        /overrides  the --set strings
 *   /peers       one row per peer                        /events     what every peer did
 *   /phases      cycle phases                            /timeseries periodic samples
 *   /loss        loss rows (live runs)                   /boundaries ResBM diagnostics
 *   /summary     one row: sim_summary (sim/metrics/summary.h)    /peer_shares per-peer GPU shares
 *   /reference   group: published figures as attributes, and their `source`
 *   /tasks       live runs with measured timing only: the task log (every compute task and
 *                its duration), which `run --replay-times` replays; attribute
 *                scenario_identity (trace_meta.tasks_identity)
 *
 * Appending is cheap: records are copied into per-table block buffers (64 Ki rows for
 * /events) and stay in memory until the next flush. trace_flush writes whatever is
 * buffered, rewrites /summary with the current figures (when given) and flushes; the
 * run calls it at least once per cycle. A buffer that fills up between flushes is
 * written at once (an early flush), so memory stays bounded by the block sizes.
 * trace_close(…, complete=1) marks a normal end.
 *
 * Crash safety: the file is open for writing only in short write windows, and closed
 * (and synced to disk) in between. trace_open creates it (HDF5's latest format) with
 * every table and closes it; while the run sets it up, each new object (/scenario,
 * /peers, /reference, /notices, and the backend attributes at the end of the set-up) is
 * written in a plain window of its own. The first record or flush ends the set-up; from
 * then on every flush is one window: the buffered rows' chunks are compressed first
 * (sim/base/h5util.h, direct mode), then the file is reopened with SWMR writing
 * (H5F_ACC_SWMR_WRITE, no file locking), the chunks stored, the attributes and summary
 * written, H5Fflush, close; then fdatasync, in a background thread (sim/base/syncer.h)
 * that the next window waits for, so windows reach the disk in order. So a run that is
 * killed (SIGKILL, OOM, a crash) between windows -- nearly always: a window takes about a
 * millisecond -- or loses power between a window's sync and the next window
 * leaves a closed, clean HDF5 file that any reader opens as it is (H5Fopen without SWMR,
 * h5dump, h5py's default), holding everything up to its last flush; its root attribute
 * complete is 0 ("incomplete"). A kill inside a flush window leaves what SWMR writing
 * guarantees: a readable file, still marked "open for writing", holding at least every
 * earlier window's rows (sim/trace/trace_read.h opens it with SWMR reading; h5py needs
 * swmr=True, other tools `h5clear -s FILE`); one inside a set-up window, a file that
 * may need `h5clear -s` (as any HDF5 file killed while writing). Rows buffered since
 * the last flush are lost. Consequence for the caller: /scenario, /peers and
 * /reference (new objects) must be written before the first record or flush.
 *
 * Records are flat structs without padding (checked at compile time); the run fills them
 * after a memset (or = {0}) and passes them by pointer. Strings in /peers are truncated to
 * their field and zero-filled here.
 *
 * Events window: the run may keep only part of the events (e.g. the first N cycles); it
 * tells the writer which (trace_set_events_window) and how many it left out
 * (trace_count_dropped_events); both become attributes of /events.
 *
 * Errors: every function returns 0 or -1. The first failure prints
 * "orionsim: PATH: src.c:LINE: what (hdf5: reason)" to stderr and makes the handle
 * inert: later calls return -1 and write nothing; trace_close still frees everything.
 *
 * Signals: nothing here is async-signal-safe. A run that catches SIGINT sets a flag in
 * its handler and, at its next safe point, calls trace_close(t, &summary, 0): the file
 * then says complete = 0 and holds everything written so far.
 */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "sim/base/fields.h"
#include "sim/base/platform.h"
#include "sim/metrics/summary.h"

#define TRACE_SCHEMA_VERSION 1

typedef struct trace trace;

/* ---- record types ------------------------------------------------------------------ */

typedef enum {
    TRACE_EV_FORWARD = 0,
    TRACE_EV_BACKWARD,
    TRACE_EV_RECOMPUTE_BACKWARD, /* backward that recomputes the forward first (IOTA) */
    TRACE_EV_LAST_FUSED,         /* last stage: forward + loss + backward in one task */
    TRACE_EV_OPTIMIZER,          /* inner optimizer step */
    TRACE_EV_SEND_ACTIVATION,
    TRACE_EV_SEND_GRADIENT,
    TRACE_EV_UPLOAD_PSEUDOGRAD,
    TRACE_EV_DOWNLOAD_PARTITION,
    TRACE_EV_MERGE,
    TRACE_EV_UPLOAD_MERGED,
    TRACE_EV_DOWNLOAD_MERGED,
    TRACE_EV_DOWNLOAD_WEIGHTS, /* a (re)joining peer fetches its stage's weights */
    TRACE_EV_IDLE,
    TRACE_EV_WAITING,
    TRACE_EV_DOWN,
    TRACE_EV_DROPPED, /* a microbatch dropped (timeout, loss, peer down) */
    TRACE_EV_KINDS
} trace_event_kind;

/* Names of the event kinds, indexed by kind ("forward", ..., "dropped"). */
extern const char *const trace_event_kind_names[TRACE_EV_KINDS];

#define TRACE_OTHER_NONE (-1)    /* `other`: no peer at the other end */
#define TRACE_OTHER_STORAGE (-2) /* `other`: object storage */

typedef struct {
    int64_t t_start_ns, t_end_ns; /* simulated time */
    int64_t microbatch;           /* -1 if none */
    int64_t bytes;                /* bytes moved (transfers), else 0 */
    double flops;                 /* hardware FLOPs of the task (recompute included), else 0 */
    int32_t peer;                 /* the peer doing it (the sender of a transfer) */
    int32_t other;                /* peer at the other end, TRACE_OTHER_NONE / _STORAGE */
    int32_t kind;                 /* trace_event_kind */
    int32_t stage;
    int32_t cycle;
    int32_t inner_step; /* inner step of `peer` in the cycle, -1 if none */
} trace_event_rec;

typedef enum {
    TRACE_PHASE_TRAINING = 0,
    TRACE_PHASE_UPLOADING = 1,
    TRACE_PHASE_MERGING = 2,
    TRACE_PHASE_OTHER = 3,
    TRACE_PHASES
} trace_phase_kind;
extern const char *const trace_phase_names[TRACE_PHASES];

typedef struct {
    int32_t cycle;
    int32_t phase; /* trace_phase_kind */
    int64_t t_start_ns, t_end_ns;
} trace_phase_rec;

typedef struct {
    int64_t t_ns;
    int64_t tokens_trained; /* cumulative */
    double tokens_per_s;    /* over the sampling interval ending at t_ns */
    double mfu_window;      /* MFU over the trailing MFU window (mfu_window_s) */
    int32_t active_peers;   /* peers up at t_ns */
    int32_t phase;          /* trace_phase_kind at t_ns */
} trace_sample_rec;

typedef enum { TRACE_LOSS_TRAIN = 0, TRACE_LOSS_VALIDATION = 1, TRACE_LOSS_KINDS } trace_loss_kind;
extern const char *const trace_loss_kind_names[TRACE_LOSS_KINDS];

typedef struct {
    int64_t t_ns;
    int64_t tokens; /* tokens trained when the loss was taken */
    int32_t cycle;
    int32_t inner_step;
    int32_t replica;
    int32_t kind; /* trace_loss_kind */
    double loss;  /* nats per token */
} trace_loss_rec;

typedef struct {
    int64_t t_ns;
    int32_t cycle;
    int32_t boundary;   /* boundary b sits between stage b and b+1 */
    double recon_error; /* ||x - dec(enc(x))|| / ||x|| */
} trace_boundary_rec;

typedef struct {
    int32_t peer, stage, replica;
    int32_t gpus;            /* GPUs of the peer */
    double peak_flops;       /* peak FLOP/s of one of its GPUs */
    double up_bps, down_bps; /* link capacities, bit/s */
    double price_usd_per_h;  /* price of the peer (all its GPUs) per hour */
    char device[24];
    char region[16];
} trace_peer_rec;

typedef struct {
    int32_t peer, stage;
    double compute, recompute, optimizer, merge, idle, waiting, down; /* fractions, sum 1 */
} trace_peer_share_rec;

/* One compute task of a measured live run (sim/live/live.h, live_task_row). */
typedef struct {
    int64_t t_start_ns;
    int64_t microbatch; /* -1: optimizer step */
    double duration_s;  /* at nominal speed, before the fault processes' multipliers */
    int32_t peer;
    int32_t kind; /* km_task (kernels/model.h), names in attribute kind_names */
} trace_task_rec;

/* Field tables of the records (also used by the reader and tests). */
extern const sim_field trace_event_fields[], trace_phase_fields[], trace_sample_fields[],
    trace_loss_fields[], trace_boundary_fields[], trace_peer_fields[], trace_peer_share_fields[],
    trace_task_fields[];
extern const size_t trace_event_n_fields, trace_phase_n_fields, trace_sample_n_fields,
    trace_loss_n_fields, trace_boundary_n_fields, trace_peer_n_fields, trace_peer_share_n_fields,
    trace_task_n_fields;

/* ---- writer ------------------------------------------------------------------------ */

typedef struct {
    const char *orionsim_version; /* NULL: "unknown" */
    const char *scenario_path;    /* NULL: "" */
    uint64_t seed;
    const char *mode;        /* "modeled" or "live" */
    const char *created;     /* ISO 8601 UTC; NULL: now (or SOURCE_DATE_EPOCH if set) */
    size_t event_block_rows; /* 0: 65536 */
    /* The machine (root attributes platform_*, sim/base/platform.h). NULL: detected when
     * the trace opens, with the backend and GPU a live run noted by its first record. */
    const sim_platform *platform;
    /* Not NULL: the trace gets a /tasks table (live runs with measured timing), and this
     * text, the scenario as run (sim/run/run_resume.h, run_scenario_identity), as its
     * attribute scenario_identity. */
    const char *tasks_identity;
} trace_meta;

/* Create (truncate) the trace file. Returns NULL after printing
 * "orionsim: PATH: reason" to stderr. */
trace *trace_open(const char *path, const trace_meta *meta);

/* The next three: once each, before the first record or flush (see Crash safety). */
/* /scenario (text verbatim) and /overrides (the --set strings, in order). */
int trace_write_scenario(trace *t, const char *text, const char *const *overrides, size_t n);
/* /peers: n rows. */
int trace_write_peers(trace *t, const trace_peer_rec *peers, size_t n);
/* /peer_shares: n rows, once, normally just before trace_close. */
int trace_write_peer_shares(trace *t, const trace_peer_share_rec *shares, size_t n);
/* /reference: published figures (name = a sim_summary field name where one matches) and
 * where they come from. Names must be non-empty and not "source". */
int trace_write_reference(trace *t, const char *const *names, const double *values, size_t n,
                          const char *source);
/* /notices: one line per value the scenario loader adjusted (a 1-D string dataset). */
int trace_write_notices(trace *t, const char *const *lines, size_t n);

/* Buffered appends. */
int trace_event(trace *t, const trace_event_rec *e);
int trace_phase(trace *t, const trace_phase_rec *p);
int trace_sample(trace *t, const trace_sample_rec *s);
int trace_loss(trace *t, const trace_loss_rec *l);
int trace_boundary(trace *t, const trace_boundary_rec *b);
/* Only when the trace has /tasks (trace_meta.tasks_identity). */
int trace_task(trace *t, const trace_task_rec *r);

/* Events window: the first `cycles` cycles are kept (-1: all, the default); `n` more
 * events were left out by the run. */
int trace_set_events_window(trace *t, int32_t cycles);
void trace_count_dropped_events(trace *t, uint64_t n);

/* Rows in the file plus rows buffered, of /events. */
uint64_t trace_events_written(const trace *t);

/* Append every buffer, write the summary (when not NULL) and the /events attributes, and
 * flush the file to disk. */
int trace_flush(trace *t, const sim_summary *s);

/* Why the run ends incomplete (the max_sim limit, a signal, a failure): written by
 * trace_close as the root attribute `end` when complete is 0, printed by report. */
void trace_set_end_note(trace *t, const char *why);

/* Flush, write the summary (its `complete` set to `complete`) and root attribute
 * complete, close and free. t may be NULL. Returns -1 if anything failed (the handle is
 * freed anyway). */
int trace_close(trace *t, const sim_summary *s, int complete);

/* Close and free without writing anything more: what the last trace_flush wrote stays,
 * buffered rows are lost, complete stays 0. For fatal paths (and tests of interrupted
 * files). */
void trace_abandon(trace *t);

/* Tests: fn(ctx) runs inside every later write window, after its H5Fflush and before the
 * file is closed (a test kills its process there). NULL removes it. */
void trace_set_window_hook(trace *t, void (*fn)(void *ctx), void *ctx);

#endif
