/* sim/trace/trace.c: the HDF5 trace writer (see trace.h; schema in results/README.md). */
#include "sim/trace/trace.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernels/model.h"
#include "sim/base/h5util.h"
#include "sim/base/syncer.h"
#include "sim/base/util.h"

/* ---- record layouts ---------------------------------------------------------------- */

_Static_assert(sizeof(trace_event_rec) == 5 * 8 + 6 * 4, "trace_event_rec has padding");
_Static_assert(sizeof(trace_phase_rec) == 2 * 4 + 2 * 8, "trace_phase_rec has padding");
_Static_assert(sizeof(trace_sample_rec) == 4 * 8 + 2 * 4, "trace_sample_rec has padding");
_Static_assert(sizeof(trace_loss_rec) == 3 * 8 + 4 * 4, "trace_loss_rec has padding");
_Static_assert(sizeof(trace_boundary_rec) == 2 * 8 + 2 * 4, "trace_boundary_rec has padding");
_Static_assert(sizeof(trace_peer_rec) == 4 * 4 + 4 * 8 + 24 + 16, "trace_peer_rec has padding");
_Static_assert(sizeof(trace_peer_share_rec) == 2 * 4 + 7 * 8, "trace_peer_share_rec has padding");
_Static_assert(sizeof(trace_task_rec) == 3 * 8 + 2 * 4, "trace_task_rec has padding");

const char *const trace_event_kind_names[TRACE_EV_KINDS] = {
    "forward",
    "backward",
    "recompute_backward",
    "last_fused",
    "optimizer",
    "send_activation",
    "send_gradient",
    "upload_pseudograd",
    "download_partition",
    "merge",
    "upload_merged",
    "download_merged",
    "download_weights",
    "idle",
    "waiting",
    "down",
    "dropped",
};
const char *const trace_phase_names[TRACE_PHASES] = {"training", "uploading", "merging", "other"};
const char *const trace_loss_kind_names[TRACE_LOSS_KINDS] = {"train", "validation"};

#define EV(ft, m, u, d) SIM_FIELD(trace_event_rec, m, ft, u, NULL, d)
const sim_field trace_event_fields[] = {
    EV(SIM_FT_I64, t_start_ns, "ns", "simulated start time"),
    EV(SIM_FT_I64, t_end_ns, "ns", "simulated end time"),
    EV(SIM_FT_I64, microbatch, "1", "microbatch id, -1 if none"),
    EV(SIM_FT_I64, bytes, "B", "bytes moved by a transfer, else 0"),
    EV(SIM_FT_F64, flops, "FLOP", "hardware FLOPs of a compute task (recompute included), else 0"),
    EV(SIM_FT_I32, peer, "1", "peer doing it (the sender of a transfer)"),
    EV(SIM_FT_I32, other, "1", "peer at the other end; -1 none, -2 object storage"),
    EV(SIM_FT_I32, kind, "enum", "event kind, names in attribute kind_names"),
    EV(SIM_FT_I32, stage, "1", "pipeline stage of peer"),
    EV(SIM_FT_I32, cycle, "1", "cycle (outer step) number, from 0"),
    EV(SIM_FT_I32, inner_step, "1", "inner step of peer within the cycle, -1 if none"),
};
const size_t trace_event_n_fields = sizeof trace_event_fields / sizeof trace_event_fields[0];

#define PH(ft, m, u, d) SIM_FIELD(trace_phase_rec, m, ft, u, NULL, d)
const sim_field trace_phase_fields[] = {
    PH(SIM_FT_I32, cycle, "1", "cycle number, from 0"),
    PH(SIM_FT_I32, phase, "enum", "phase, names in attribute phase_names"),
    PH(SIM_FT_I64, t_start_ns, "ns", "simulated start time"),
    PH(SIM_FT_I64, t_end_ns, "ns", "simulated end time"),
};
const size_t trace_phase_n_fields = sizeof trace_phase_fields / sizeof trace_phase_fields[0];

#define TS(ft, m, u, d) SIM_FIELD(trace_sample_rec, m, ft, u, NULL, d)
const sim_field trace_sample_fields[] = {
    TS(SIM_FT_I64, t_ns, "ns", "simulated time of the sample"),
    TS(SIM_FT_I64, tokens_trained, "tokens", "tokens trained so far"),
    TS(SIM_FT_F64, tokens_per_s, "tokens/s", "throughput over the sampling interval"),
    TS(SIM_FT_F64, mfu_window, "fraction", "MFU over the trailing MFU window"),
    TS(SIM_FT_I32, active_peers, "1", "peers up"),
    TS(SIM_FT_I32, phase, "enum", "phase, names in attribute phase_names"),
};
const size_t trace_sample_n_fields = sizeof trace_sample_fields / sizeof trace_sample_fields[0];

#define LO(ft, m, u, d) SIM_FIELD(trace_loss_rec, m, ft, u, NULL, d)
const sim_field trace_loss_fields[] = {
    LO(SIM_FT_I64, t_ns, "ns", "simulated time"),
    LO(SIM_FT_I64, tokens, "tokens", "tokens trained when the loss was taken"),
    LO(SIM_FT_I32, cycle, "1", "cycle number"),
    LO(SIM_FT_I32, inner_step, "1", "inner step within the cycle"),
    LO(SIM_FT_I32, replica, "1", "pipeline replica"),
    LO(SIM_FT_I32, kind, "enum", "0 train, 1 validation (attribute kind_names)"),
    LO(SIM_FT_F64, loss, "nats/token", "cross-entropy loss"),
};
const size_t trace_loss_n_fields = sizeof trace_loss_fields / sizeof trace_loss_fields[0];

#define BO(ft, m, u, d) SIM_FIELD(trace_boundary_rec, m, ft, u, NULL, d)
const sim_field trace_boundary_fields[] = {
    BO(SIM_FT_I64, t_ns, "ns", "simulated time"),
    BO(SIM_FT_I32, cycle, "1", "cycle number"),
    BO(SIM_FT_I32, boundary, "1", "boundary b, between stage b and b+1"),
    BO(SIM_FT_F64, recon_error, "fraction", "||x - dec(enc(x))|| / ||x||"),
};
const size_t trace_boundary_n_fields =
    sizeof trace_boundary_fields / sizeof trace_boundary_fields[0];

#define PE(ft, m, u, d) SIM_FIELD(trace_peer_rec, m, ft, u, NULL, d)
const sim_field trace_peer_fields[] = {
    PE(SIM_FT_I32, peer, "1", "peer id (the peer of /events)"),
    PE(SIM_FT_I32, stage, "1", "pipeline stage"),
    PE(SIM_FT_I32, replica, "1", "pipeline replica"),
    PE(SIM_FT_I32, gpus, "1", "GPUs of the peer"),
    PE(SIM_FT_F64, peak_flops, "FLOP/s", "peak FLOP/s of one GPU (bf16 dense)"),
    PE(SIM_FT_F64, up_bps, "bit/s", "uplink capacity"),
    PE(SIM_FT_F64, down_bps, "bit/s", "downlink capacity"),
    PE(SIM_FT_F64, price_usd_per_h, "USD/h", "price of the peer per hour"),
    PE(SIM_FT_STR, device, "", "device name"),
    PE(SIM_FT_STR, region, "", "region name"),
};
const size_t trace_peer_n_fields = sizeof trace_peer_fields / sizeof trace_peer_fields[0];

#define SH(ft, m, u, d) SIM_FIELD(trace_peer_share_rec, m, ft, u, NULL, d)
const sim_field trace_peer_share_fields[] = {
    SH(SIM_FT_I32, peer, "1", "peer id"),
    SH(SIM_FT_I32, stage, "1", "pipeline stage"),
    SH(SIM_FT_F64, compute, "fraction", "forward/backward compute, recompute excluded"),
    SH(SIM_FT_F64, recompute, "fraction", "forward recomputed inside backward"),
    SH(SIM_FT_F64, optimizer, "fraction", "inner optimizer steps"),
    SH(SIM_FT_F64, merge, "fraction", "merging partitions"),
    SH(SIM_FT_F64, idle, "fraction", "up, nothing to do"),
    SH(SIM_FT_F64, waiting, "fraction", "up, blocked on the network"),
    SH(SIM_FT_F64, down, "fraction", "down"),
};
const size_t trace_peer_share_n_fields =
    sizeof trace_peer_share_fields / sizeof trace_peer_share_fields[0];

#define TK(ft, m, u, d) SIM_FIELD(trace_task_rec, m, ft, u, NULL, d)
const sim_field trace_task_fields[] = {
    TK(SIM_FT_I64, t_start_ns, "ns", "simulated time the task started"),
    TK(SIM_FT_I64, microbatch, "1", "microbatch id, -1 for an optimizer step"),
    TK(SIM_FT_F64, duration_s, "s",
       "duration live mode answered, at nominal speed (before the faults' speed multipliers)"),
    TK(SIM_FT_I32, peer, "1", "peer"),
    TK(SIM_FT_I32, kind, "enum", "task kind, names in attribute kind_names"),
};
const size_t trace_task_n_fields = sizeof trace_task_fields / sizeof trace_task_fields[0];

/* ---- the writer -------------------------------------------------------------------- */

enum { T_EVENTS, T_PHASES, T_SAMPLES, T_LOSS, T_BOUNDARIES, T_PEERS, T_SHARES, T_TASKS, T_COUNT };

static const struct {
    const char *name;
    const sim_field *fields;
    const size_t *n_fields;
    size_t rec_size, chunk_rows, block_rows;
} tables[T_COUNT] = {
    [T_EVENTS] = {"events", trace_event_fields, &trace_event_n_fields, sizeof(trace_event_rec),
                  16384, 65536},
    [T_PHASES] = {"phases", trace_phase_fields, &trace_phase_n_fields, sizeof(trace_phase_rec),
                  1024, 1024},
    [T_SAMPLES] = {"timeseries", trace_sample_fields, &trace_sample_n_fields,
                   sizeof(trace_sample_rec), 4096, 4096},
    [T_LOSS] = {"loss", trace_loss_fields, &trace_loss_n_fields, sizeof(trace_loss_rec), 4096,
                4096},
    [T_BOUNDARIES] = {"boundaries", trace_boundary_fields, &trace_boundary_n_fields,
                      sizeof(trace_boundary_rec), 1024, 1024},
    [T_PEERS] = {"peers", trace_peer_fields, &trace_peer_n_fields, sizeof(trace_peer_rec), 256,
                 256},
    [T_SHARES] = {"peer_shares", trace_peer_share_fields, &trace_peer_share_n_fields,
                  sizeof(trace_peer_share_rec), 256, 256},
    [T_TASKS] = {"tasks", trace_task_fields, &trace_task_n_fields, sizeof(trace_task_rec), 16384,
                 65536}, /* only with trace_meta.tasks_identity */
};

struct trace {
    char *path;
    hid_t file; /* open while setting up and inside a write window, else closed */
    hid_t summary, summary_mtype;
    h5u_table t[T_COUNT];
    int failed;
    int set_up;         /* the set-up is over: from now on the file is open only in windows */
    int platform_given; /* meta->platform was set: backend and GPU written at open */
    int wrote_scenario, wrote_peers, wrote_shares, wrote_reference, wrote_notices;
    int32_t window_cycles;
    uint64_t dropped;
    sim_syncer *syncer;             /* fdatasync after every window, in the background */
    char *end_note;                 /* why an incomplete run ended (root attribute end) */
    void (*window_hook)(void *ctx); /* tests: called inside every write window */
    void *window_hook_ctx;
    char err[512];
};

/* Report the failure in t->err once and make the handle inert. */
static int fail(trace *t) {
    if (!t->failed) fprintf(stderr, "orionsim: %s: %s\n", t->path, t->err);
    t->failed = 1;
    return -1;
}
#define TRY(t, call)                                                                               \
    do {                                                                                           \
        if ((call) < 0) return fail(t);                                                            \
    } while (0)

static void close_handles(trace *t) {
    char ignore[16];
    for (int i = 0; i < T_COUNT; i++) h5u_table_close(&t->t[i], ignore, sizeof ignore);
    if (t->summary >= 0) H5Dclose(t->summary);
    if (t->summary_mtype >= 0) H5Tclose(t->summary_mtype);
    if (t->file >= 0) H5Fclose(t->file);
    t->summary = t->summary_mtype = t->file = H5I_INVALID_HID;
    H5Eclear2(H5E_DEFAULT);
}

static void free_trace(trace *t) {
    close_handles(t);
    char ignore[16];
    sim_syncer_stop(t->syncer, ignore, sizeof ignore);
    free(t->end_note);
    free(t->path);
    free(t);
}

/* ---- write windows ----------------------------------------------------------------- */

/* The directory entry of the new file, synced once (its data: t->syncer, after every
 * window). A directory that cannot be opened or synced is left as it is. */
static void sync_dir(trace *t) {
    char *d = xstrdup(t->path);
    char *slash = strrchr(d, '/');
    const char *dir = slash ? (slash == d ? "/" : (*slash = 0, d)) : ".";
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        if (fsync(fd)) {} /* best effort: the file itself is synced after every window */
        close(fd);
    }
    free(d);
}

/* Reopen the file for one write window. Rows (swmr): SWMR writing, so that a kill inside
 * the window leaves the file as its last H5Fflush did, readable with SWMR reading. New
 * objects while setting up (!swmr): plain writing, which SWMR does not allow. No file
 * locking: a reader holding the file open between windows cannot make the run fail. */
static int window_open(trace *t, int swmr) {
    if (t->file >= 0) return 0;
    /* the previous window on disk first: windows reach the disk in order */
    if (sim_syncer_wait(t->syncer, t->err, sizeof t->err)) return fail(t);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    unsigned flags = H5F_ACC_RDWR | (swmr ? H5F_ACC_SWMR_WRITE : 0);
    if (fapl >= 0 && H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) >= 0) {
#if H5_VERSION_GE(1, 10, 7)
        if (H5Pset_file_locking(fapl, 0, 1) >= 0)
#endif
            t->file = H5Fopen(t->path, flags, fapl);
    }
    if (t->file < 0) H5U_FAIL(t->err, sizeof t->err, "cannot reopen for writing", "trace file");
    if (fapl >= 0) H5Pclose(fapl);
    if (t->file < 0) return fail(t);
    t->summary = H5Dopen2(t->file, "summary", H5P_DEFAULT);
    if (t->summary < 0) {
        H5U_FAIL(t->err, sizeof t->err, "cannot reopen", "/summary");
        return fail(t);
    }
    for (int i = 0; i < T_COUNT; i++)
        if (t->t[i].name) /* created */
            TRY(t, h5u_table_attach(&t->t[i], t->file, t->err, sizeof t->err));
    return 0;
}

/* End a window: close every handle and the file, and have it synced to disk (in the
 * background: the next window waits for it). The file is then a closed HDF5 file that
 * any reader opens without SWMR. */
static int window_close(trace *t) {
    for (int i = 0; i < T_COUNT; i++) TRY(t, h5u_table_detach(&t->t[i], t->err, sizeof t->err));
    if (t->summary >= 0 && H5Dclose(t->summary) < 0) {
        t->summary = H5I_INVALID_HID;
        H5U_FAIL(t->err, sizeof t->err, "cannot close", "/summary");
        return fail(t);
    }
    t->summary = H5I_INVALID_HID;
    herr_t rc = H5Fclose(t->file);
    t->file = H5I_INVALID_HID;
    if (rc < 0) {
        H5U_FAIL(t->err, sizeof t->err, "cannot close", "trace file");
        return fail(t);
    }
    sim_syncer_request(t->syncer);
    return 0;
}

static int write_summary(trace *t, const sim_summary *s, int complete) {
    sim_summary copy = *s;
    copy.complete = complete ? 1 : 0;
    if (H5Dwrite(t->summary, t->summary_mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, &copy) < 0)
        return H5U_FAIL(t->err, sizeof t->err, "cannot write dataset", "/summary");
    return 0;
}

static int create_summary(trace *t) {
    hsize_t one[1] = {1};
    hid_t ft =
        h5u_compound(sim_summary_fields, sim_summary_n_fields, sizeof(sim_summary), H5U_FILE);
    t->summary_mtype =
        h5u_compound(sim_summary_fields, sim_summary_n_fields, sizeof(sim_summary), H5U_MEM);
    hid_t sp = H5Screate_simple(1, one, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int rc = 0;
    if (ft < 0 || t->summary_mtype < 0 || sp < 0 || dcpl < 0 ||
        H5Pset_obj_track_times(dcpl, 0) < 0) {
        rc = H5U_FAIL(t->err, sizeof t->err, "cannot set up dataset", "/summary");
    } else {
        t->summary = H5Dcreate2(t->file, "summary", ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        if (t->summary < 0) rc = H5U_FAIL(t->err, sizeof t->err, "cannot create", "/summary");
    }
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (rc) return -1;
    if (h5u_field_attrs(t->summary, sim_summary_fields, sim_summary_n_fields, t->err,
                        sizeof t->err))
        return -1;
    sim_summary s;
    sim_summary_init(&s);
    return write_summary(t, &s, 0);
}

static int write_events_attrs(trace *t) {
    hid_t d = t->t[T_EVENTS].dset;
    if (h5u_attr_i32(d, "window_cycles", t->window_cycles, t->err, sizeof t->err) ||
        h5u_attr_i64(d, "dropped_by_window", (int64_t)t->dropped, t->err, sizeof t->err))
        return -1;
    return 0;
}

/* The machine's root attributes: CPU and BLAS (and, with `device`, backend and GPU). */
static int write_platform(trace *t, const sim_platform *p, int device) {
    char *e = t->err;
    size_t el = sizeof t->err;
    hid_t f = t->file;
    if (device)
        return h5u_attr_str(f, "platform_backend", p->backend, e, el) ||
                       h5u_attr_str(f, "platform_gpu", p->gpu, e, el)
                   ? -1
                   : 0;
    return h5u_attr_str(f, "platform_cpu", p->cpu, e, el) ||
                   h5u_attr_i32(f, "platform_cores", p->cores, e, el) ||
                   h5u_attr_str(f, "platform_blas", p->blas, e, el) ||
                   h5u_attr_str(f, "platform_blas_version", p->blas_version, e, el) ||
                   h5u_attr_i32(f, "platform_blas_threads", p->blas_threads, e, el) ||
                   h5u_attr_i32(f, "platform_omp_threads", p->omp_threads, e, el)
               ? -1
               : 0;
}

static int open_contents(trace *t, const trace_meta *m, const sim_platform *here) {
    char created[40];
    if (m->created) snprintf(created, sizeof created, "%s", m->created);
    else sim_iso_now(created, sizeof created);
    char *e = t->err;
    size_t el = sizeof t->err;
    hid_t f = t->file;
    if (h5u_attr_i32(f, "schema_version", TRACE_SCHEMA_VERSION, e, el) ||
        h5u_attr_str(f, "orionsim_version", m->orionsim_version ? m->orionsim_version : "unknown",
                     e, el) ||
        h5u_attr_str(f, "scenario_path", m->scenario_path ? m->scenario_path : "", e, el) ||
        h5u_attr_u64(f, "seed", m->seed, e, el) || h5u_attr_str(f, "created", created, e, el) ||
        h5u_attr_str(f, "mode", m->mode ? m->mode : "modeled", e, el) ||
        h5u_attr_i32(f, "complete", 0, e, el))
        return -1;
    t->platform_given = m->platform != NULL;
    if (write_platform(t, m->platform ? m->platform : here, 0) ||
        (t->platform_given && write_platform(t, m->platform, 1)))
        return -1;
    for (int i = 0; i < T_COUNT; i++) {
        if (i == T_TASKS && !m->tasks_identity) continue;
        size_t block = tables[i].block_rows;
        if (i == T_EVENTS && m->event_block_rows) block = m->event_block_rows;
        if (h5u_table_create(&t->t[i], f, tables[i].name, tables[i].fields, *tables[i].n_fields,
                             tables[i].rec_size, tables[i].chunk_rows, block, e, el))
            return -1;
        h5u_table_set_direct(&t->t[i]); /* chunks compressed outside the write windows */
    }
    if (h5u_attr_strs(t->t[T_EVENTS].dset, "kind_names", trace_event_kind_names, TRACE_EV_KINDS, e,
                      el) ||
        h5u_attr_strs(t->t[T_PHASES].dset, "phase_names", trace_phase_names, TRACE_PHASES, e, el) ||
        h5u_attr_strs(t->t[T_SAMPLES].dset, "phase_names", trace_phase_names, TRACE_PHASES, e,
                      el) ||
        h5u_attr_strs(t->t[T_LOSS].dset, "kind_names", trace_loss_kind_names, TRACE_LOSS_KINDS, e,
                      el) ||
        write_events_attrs(t))
        return -1;
    if (m->tasks_identity) {
        const char *kinds[KM_TASK_KINDS];
        for (int k = 0; k < KM_TASK_KINDS; k++) kinds[k] = km_task_name((km_task)k);
        hid_t d = t->t[T_TASKS].dset;
        if (h5u_attr_strs(d, "kind_names", kinds, KM_TASK_KINDS, e, el) ||
            h5u_attr_str(d, "scenario_identity", m->tasks_identity, e, el))
            return -1;
    }
    return create_summary(t);
}

trace *trace_open(const char *path, const trace_meta *meta) {
    h5u_quiet();
    trace_meta none = {0};
    if (!meta) meta = &none;
    trace *t = xcalloc(1, sizeof *t);
    t->path = xstrdup(path);
    t->file = t->summary = t->summary_mtype = H5I_INVALID_HID;
    for (int i = 0; i < T_COUNT; i++) t->t[i].dset = t->t[i].memtype = H5I_INVALID_HID;
    t->window_cycles = -1;
    sim_platform here; /* before the file is created: it takes a while */
    if (!meta->platform) sim_platform_detect(&here);
    /* The latest format: SWMR needs it (HDF5 >= 1.10 reads it). */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fapl >= 0 && fcpl >= 0 &&
        H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) >= 0 &&
        H5Pset_obj_track_times(fcpl, 0) >= 0) /* the root group: no timestamps */
        t->file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    if (t->file < 0) H5U_FAIL(t->err, sizeof t->err, "cannot create trace file", "");
    if (fapl >= 0) H5Pclose(fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (t->file < 0) {
        fail(t);
        free_trace(t);
        return NULL;
    }
    if (open_contents(t, meta, &here) || H5Fflush(t->file, H5F_SCOPE_GLOBAL) < 0) {
        if (!t->err[0]) H5U_FAIL(t->err, sizeof t->err, "cannot flush", "trace file");
        fail(t);
        free_trace(t);
        return NULL;
    }
    t->syncer = sim_syncer_start(path);
    if (window_close(t)) { /* closed until the next write */
        free_trace(t);
        return NULL;
    }
    sync_dir(t);
    return t;
}

/* ---- one-off tables ---------------------------------------------------------------- */

/* Objects are created only while setting up (until the first record or flush), each in
 * a plain write window of its own. */
#define ONCE(t, flag, what)                                                                        \
    do {                                                                                           \
        if (!(t) || (t)->failed) return -1;                                                        \
        if ((t)->flag) SIM_FAIL("trace %s: %s written twice", (t)->path, what);                    \
        if ((t)->set_up)                                                                           \
            SIM_FAIL("trace %s: %s must be written before the first record or flush", (t)->path,   \
                     what);                                                                        \
        (t)->flag = 1;                                                                             \
        if (window_open(t, 0)) return -1;                                                          \
    } while (0)

int trace_write_scenario(trace *t, const char *text, const char *const *overrides, size_t n) {
    ONCE(t, wrote_scenario, "scenario");
    static const char *const none[1] = {""};
    TRY(t, h5u_write_text(t->file, "scenario", text, t->err, sizeof t->err));
    TRY(t, h5u_write_texts(t->file, "overrides", n ? overrides : none, n, t->err, sizeof t->err));
    return window_close(t);
}

static void fix_str(char *s, size_t n) {
    size_t len = strnlen(s, n);
    if (len == n) len = n - 1;
    memset(s + len, 0, n - len);
}

int trace_write_peers(trace *t, const trace_peer_rec *peers, size_t n) {
    ONCE(t, wrote_peers, "peers");
    for (size_t i = 0; i < n; i++) {
        trace_peer_rec r = peers[i];
        fix_str(r.device, sizeof r.device);
        fix_str(r.region, sizeof r.region);
        TRY(t, h5u_table_append(&t->t[T_PEERS], &r, t->err, sizeof t->err));
    }
    TRY(t, h5u_table_flush(&t->t[T_PEERS], t->err, sizeof t->err));
    return window_close(t);
}

static int append(trace *t, int which, const void *rec);

int trace_write_peer_shares(trace *t, const trace_peer_share_rec *shares, size_t n) {
    if (!t || t->failed) return -1;
    if (t->wrote_shares) SIM_FAIL("trace %s: peer shares written twice", t->path);
    t->wrote_shares = 1; /* rows of an existing table, buffered as any others */
    for (size_t i = 0; i < n; i++)
        if (append(t, T_SHARES, &shares[i])) return -1;
    return 0;
}

int trace_write_reference(trace *t, const char *const *names, const double *values, size_t n,
                          const char *source) {
    ONCE(t, wrote_reference, "reference");
    for (size_t i = 0; i < n; i++) {
        if (!names[i] || !names[i][0] || !strcmp(names[i], "source"))
            SIM_FAIL("trace %s: bad reference name '%s'", t->path, names[i] ? names[i] : "");
        for (size_t j = 0; j < i; j++)
            if (!strcmp(names[i], names[j]))
                SIM_FAIL("trace %s: reference %s given twice", t->path, names[i]);
    }
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    if (gcpl < 0 || H5Pset_obj_track_times(gcpl, 0) < 0) {
        H5U_FAIL(t->err, sizeof t->err, "cannot set up group", "/reference");
        if (gcpl >= 0) H5Pclose(gcpl);
        return fail(t);
    }
    hid_t g = H5Gcreate2(t->file, "reference", H5P_DEFAULT, gcpl, H5P_DEFAULT);
    if (g < 0) H5U_FAIL(t->err, sizeof t->err, "cannot create group", "/reference");
    H5Pclose(gcpl);
    if (g < 0) return fail(t);
    int rc = h5u_attr_str(g, "source", source ? source : "", t->err, sizeof t->err);
    for (size_t i = 0; i < n && !rc; i++)
        rc = h5u_attr_f64(g, names[i], values[i], t->err, sizeof t->err);
    if (H5Gclose(g) < 0 && !rc) rc = H5U_FAIL(t->err, sizeof t->err, "cannot close", "/reference");
    return rc ? fail(t) : window_close(t);
}

int trace_write_notices(trace *t, const char *const *lines, size_t n) {
    ONCE(t, wrote_notices, "notices");
    if (h5u_write_texts(t->file, "notices", lines, n, t->err, sizeof t->err)) return fail(t);
    return window_close(t);
}

/* ---- appends ----------------------------------------------------------------------- */

/* The set-up ends at the first record or flush: the backend and GPU of a live run are
 * known by now (it opened them after the trace), then the file is closed; from here on
 * it is reopened only for write windows. */
static int end_setup(trace *t) {
    if (t->set_up) return 0;
    t->set_up = 1;
    if (t->platform_given) return 0;
    sim_platform p;
    sim_platform_detect(&p);
    if (window_open(t, 0)) return -1;
    if (write_platform(t, &p, 1)) return fail(t);
    return window_close(t);
}

static int flush_all(trace *t, const sim_summary *s, int complete) {
    for (int i = 0; i < T_COUNT; i++) TRY(t, h5u_table_flush(&t->t[i], t->err, sizeof t->err));
    TRY(t, write_events_attrs(t));
    if (s) TRY(t, write_summary(t, s, complete));
    return 0;
}

/* One write window: every buffered row, the /events attributes and the summary (when
 * s is given; with the root attribute complete when `last`), flushed, then closed. */
static int write_window(trace *t, const sim_summary *s, int complete, int last) {
    for (int i = 0; i < T_COUNT; i++) /* the slow part, before the file is opened */
        TRY(t, h5u_table_prepare(&t->t[i], t->err, sizeof t->err));
    if (window_open(t, 1) || flush_all(t, s, complete)) return -1;
    if (last && h5u_attr_i32(t->file, "complete", complete ? 1 : 0, t->err, sizeof t->err))
        return fail(t);
    if (last && !complete && t->end_note &&
        h5u_attr_str(t->file, "end", t->end_note, t->err, sizeof t->err))
        return fail(t);
    if (H5Fflush(t->file, H5F_SCOPE_GLOBAL) < 0) {
        H5U_FAIL(t->err, sizeof t->err, "cannot flush", "trace file");
        return fail(t);
    }
    if (t->window_hook) t->window_hook(t->window_hook_ctx);
    return window_close(t);
}

void trace_set_window_hook(trace *t, void (*fn)(void *ctx), void *ctx) {
    if (!t) return;
    t->window_hook = fn;
    t->window_hook_ctx = ctx;
}

/* Rows wait in their table's buffer; a full buffer is written at once (a window of its
 * own), so memory stays bounded by the block sizes whatever the flush interval. */
static int append(trace *t, int which, const void *rec) {
    if (!t || t->failed || end_setup(t)) return -1;
    TRY(t, h5u_table_append(&t->t[which], rec, t->err, sizeof t->err));
    if (h5u_table_full(&t->t[which])) return write_window(t, NULL, 0, 0);
    return 0;
}

int trace_event(trace *t, const trace_event_rec *e) { return append(t, T_EVENTS, e); }
int trace_phase(trace *t, const trace_phase_rec *p) { return append(t, T_PHASES, p); }
int trace_sample(trace *t, const trace_sample_rec *s) { return append(t, T_SAMPLES, s); }
int trace_loss(trace *t, const trace_loss_rec *l) { return append(t, T_LOSS, l); }
int trace_boundary(trace *t, const trace_boundary_rec *b) { return append(t, T_BOUNDARIES, b); }
int trace_task(trace *t, const trace_task_rec *r) {
    if (t && !t->failed && !t->t[T_TASKS].name)
        SIM_FAIL("trace %s: a task row, but the trace has no /tasks table", t->path);
    return append(t, T_TASKS, r);
}

int trace_set_events_window(trace *t, int32_t cycles) {
    if (!t || t->failed) return -1;
    t->window_cycles = cycles;
    return 0;
}

void trace_count_dropped_events(trace *t, uint64_t n) {
    if (t) t->dropped += n;
}

uint64_t trace_events_written(const trace *t) {
    return t ? t->t[T_EVENTS].n_rows + t->t[T_EVENTS].n_buf : 0;
}

/* ---- flush and close --------------------------------------------------------------- */

int trace_flush(trace *t, const sim_summary *s) {
    if (!t || t->failed || end_setup(t)) return -1;
    return write_window(t, s, 0, 0);
}

void trace_set_end_note(trace *t, const char *why) {
    if (!t || !why) return;
    free(t->end_note);
    t->end_note = xstrdup(why);
}

int trace_close(trace *t, const sim_summary *s, int complete) {
    if (!t) return 0;
    int rc = t->failed ? -1 : 0;
    if (!rc) rc = end_setup(t);
    if (!rc) rc = write_window(t, s, complete, 1);
    if (!rc) { /* the last window on disk before the run reports success */
        int src = sim_syncer_stop(t->syncer, t->err, sizeof t->err);
        t->syncer = NULL;
        if (src) rc = fail(t);
    }
    free_trace(t);
    return rc;
}

void trace_abandon(trace *t) {
    if (t) free_trace(t);
}
