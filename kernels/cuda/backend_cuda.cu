/* kernels/cuda/backend_cuda.cu: the CUDA backend's table, memory, transfers, open/close.
 *
 * Design. orionsim_cuda_open() builds one kb_backend per GPU (see cuda_common.cuh for
 * the per-instance state). Opening never aborts: any failure (no driver, no device, bad
 * ordinal, no kernel image for the GPU's architecture, out of memory) releases what was
 * made and returns NULL with a message. After a successful open, failures abort with
 * file:line like every other backend call.
 *
 * Streams and ordering. All ops run on the compute stream. Uploads and downloads run
 * on the copy stream:
 *   upload:   copy waits for the compute stream's work issued so far (the buffer may be
 *             in use), then copies from a pinned staging slot, then the compute stream
 *             waits for the copy (later ops see the data). The host source is consumed
 *             before upload returns (copied, and converted to bf16 when needed, into the
 *             staging slot), so the caller may reuse it at once. Two staging slots
 *             alternate; the host blocks only when the slot it needs is still in flight.
 *   download: copy waits for the compute stream, copies into pinned staging, then the
 *             host waits for the copy and converts into the caller's buffer.
 * So within one instance, a transfer is ordered after the ops issued before it and
 * before the ops issued after it (the semantics of a single stream), while the copy
 * engine works concurrently with other instances' compute on the same GPU and with the
 * host. alloc zeroes on the compute stream; free and scratch growth synchronise first.
 *
 * Exports (C linkage): orionsim_cuda_open, orionsim_cuda_device_count.
 */
#include <stdarg.h>
#include <string.h>

#include "kernels/cuda/cuda_common.cuh"

#define KC_CUBLAS_WS_BYTES ((size_t)32 << 20) /* cuBLAS workspace (Hopper: 32 MiB) */

/* ---- kernels ---- */

/* Never launched: cudaFuncGetAttributes on it tells whether the plugin has code for the
 * device's architecture. */
__global__ void kc_probe_kernel(int *p) {
    if (p) *p = 0;
}

/* ---- host helpers ---- */

__attribute__((format(printf, 3, 4))) static void kc_errf(char *err, size_t errlen, const char *fmt,
                                                          ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* fp32 -> bf16 bits, round to nearest even (as __float2bfloat16_rn); NaN stays NaN. */
static inline uint16_t kc_f2bf_host(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float kc_bf2f_host(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void *kc_scratch(kc_impl *im, int slot, size_t bytes) {
    if (bytes == 0) bytes = 1;
    if (im->scratch_bytes[slot] >= bytes) return im->scratch[slot];
    size_t want = im->scratch_bytes[slot] * 2;
    if (want < bytes) want = bytes;
    want = (want + 255) & ~(size_t)255;
    /* earlier ops on the compute stream may still use the old buffer */
    cudaCheck(cudaStreamSynchronize(im->stream));
    if (im->scratch[slot]) cudaCheck(cudaFree(im->scratch[slot]));
    im->scratch[slot] = NULL;
    im->scratch_bytes[slot] = 0;
    cudaCheck(cudaMalloc(&im->scratch[slot], want));
    im->scratch_bytes[slot] = want;
    return im->scratch[slot];
}

/* Makes the copy stream wait for everything issued so far on the compute stream. */
static void kc_copy_after_compute(kc_impl *im) {
    cudaCheck(cudaEventRecord(im->ev_compute, im->stream));
    cudaCheck(cudaStreamWaitEvent(im->copy, im->ev_compute, 0));
}

/* ---- memory ---- */

static void *kc_alloc(kb_backend *be, size_t bytes) {
    kc_impl *im = kc_enter(be);
    void *p = NULL;
    size_t b = bytes ? bytes : 1;
    cudaError_t e = cudaMalloc(&p, b);
    if (e != cudaSuccess) {
        fprintf(stderr, "%s:%d: cudaMalloc(%zu bytes) on GPU %d: %s\n", __FILE__, __LINE__, bytes,
                im->device, cudaGetErrorString(e));
        exit(1);
    }
    cudaCheck(cudaMemsetAsync(p, 0, b, im->stream));
    return p;
}

static void kc_free(kb_backend *be, void *p) {
    if (!p) return;
    kc_impl *im = kc_enter(be);
    cudaCheck(cudaStreamSynchronize(im->copy));
    cudaCheck(cudaStreamSynchronize(im->stream));
    cudaCheck(cudaFree(p));
}

static void kc_zero(kb_backend *be, void *p, size_t bytes) {
    if (bytes == 0) return;
    KC_RANGE("kc_zero");
    kc_impl *im = kc_enter(be);
    cudaCheck(cudaMemsetAsync(p, 0, bytes, im->stream));
}

static void kc_copy(kb_backend *be, void *dst, const void *src, size_t bytes) {
    if (bytes == 0 || dst == src) return;
    KC_RANGE("kc_copy");
    kc_impl *im = kc_enter(be);
    cudaCheck(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, im->stream));
}

/* Returns an upload staging slot of at least `bytes`, free for the host to fill. */
static void *kc_up_slot(kc_impl *im, size_t bytes, int *slot_out) {
    int s = im->up_next;
    im->up_next ^= 1;
    cudaCheck(cudaEventSynchronize(im->up_done[s])); /* its last copy is done */
    if (im->up_bytes[s] < bytes) {
        if (im->up_host[s]) cudaCheck(cudaFreeHost(im->up_host[s]));
        im->up_host[s] = NULL;
        im->up_bytes[s] = 0;
        size_t want = (bytes + 4095) & ~(size_t)4095;
        cudaCheck(cudaMallocHost(&im->up_host[s], want));
        im->up_bytes[s] = want;
    }
    *slot_out = s;
    return im->up_host[s];
}

/* Issues the H2D copy from staging slot s to dst, ordered as described at the top. */
static void kc_up_issue(kc_impl *im, int s, void *dst, size_t bytes) {
    kc_copy_after_compute(im);
    cudaCheck(cudaMemcpyAsync(dst, im->up_host[s], bytes, cudaMemcpyHostToDevice, im->copy));
    cudaCheck(cudaEventRecord(im->up_done[s], im->copy));
    cudaCheck(cudaStreamWaitEvent(im->stream, im->up_done[s], 0));
}

static void kc_upload(kb_backend *be, void *dst, kb_dtype t, const float *src, size_t n) {
    if (n == 0) return;
    KC_RANGE("kc_upload");
    kc_impl *im = kc_enter(be);
    size_t bytes = n * kb_dtype_size(t);
    int s;
    void *h = kc_up_slot(im, bytes, &s);
    if (t == KB_BF16) {
        uint16_t *hb = (uint16_t *)h;
        for (size_t i = 0; i < n; i++) hb[i] = kc_f2bf_host(src[i]);
    } else {
        memcpy(h, src, bytes);
    }
    kc_up_issue(im, s, dst, bytes);
}

static void kc_upload_raw(kb_backend *be, void *dst, const void *src, size_t bytes) {
    if (bytes == 0) return;
    KC_RANGE("kc_upload_raw");
    kc_impl *im = kc_enter(be);
    int s;
    void *h = kc_up_slot(im, bytes, &s);
    memcpy(h, src, bytes);
    kc_up_issue(im, s, dst, bytes);
}

/* Copies `bytes` from device src into the pinned download buffer, waiting for it. */
static void *kc_down_stage(kc_impl *im, const void *src, size_t bytes) {
    if (im->down_bytes < bytes) {
        if (im->down_host) cudaCheck(cudaFreeHost(im->down_host));
        im->down_host = NULL;
        im->down_bytes = 0;
        size_t want = (bytes + 4095) & ~(size_t)4095;
        cudaCheck(cudaMallocHost(&im->down_host, want));
        im->down_bytes = want;
    }
    kc_copy_after_compute(im);
    cudaCheck(cudaMemcpyAsync(im->down_host, src, bytes, cudaMemcpyDeviceToHost, im->copy));
    cudaCheck(cudaStreamSynchronize(im->copy));
    return im->down_host;
}

static void kc_download(kb_backend *be, float *dst, const void *src, kb_dtype t, size_t n) {
    if (n == 0) return;
    KC_RANGE("kc_download");
    kc_impl *im = kc_enter(be);
    size_t bytes = n * kb_dtype_size(t);
    const void *h = kc_down_stage(im, src, bytes);
    if (t == KB_BF16) {
        const uint16_t *hb = (const uint16_t *)h;
        for (size_t i = 0; i < n; i++) dst[i] = kc_bf2f_host(hb[i]);
    } else {
        memcpy(dst, h, bytes);
    }
}

static void kc_download_raw(kb_backend *be, void *dst, const void *src, size_t bytes) {
    if (bytes == 0) return;
    KC_RANGE("kc_download_raw");
    kc_impl *im = kc_enter(be);
    memcpy(dst, kc_down_stage(im, src, bytes), bytes);
}

static void kc_synchronize(kb_backend *be) {
    KC_RANGE("kc_synchronize");
    kc_impl *im = kc_enter(be);
    cudaCheck(cudaStreamSynchronize(im->copy));
    cudaCheck(cudaStreamSynchronize(im->stream));
}

/* ---- open / close ---- */

/* Releases whatever part of the instance exists. `checked`: abort on errors (close of a
 * working instance) or ignore them (cleaning up after a failed open). */
static void kc_release(kc_impl *im, int checked) {
#define KC_REL(call)                                                                               \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (checked) kc_cuda_check(e_, #call, __FILE__, __LINE__);                                 \
    } while (0)
    if (im->stream) KC_REL(cudaStreamSynchronize(im->stream));
    if (im->copy) KC_REL(cudaStreamSynchronize(im->copy));
    if (im->cublas) {
        cublasStatus_t s = cublasDestroy(im->cublas);
        if (checked) kc_cublas_check(s, "cublasDestroy", __FILE__, __LINE__);
    }
    if (im->cublas_ws) KC_REL(cudaFree(im->cublas_ws));
    for (int i = 0; i < KC_NSCRATCH; i++)
        if (im->scratch[i]) KC_REL(cudaFree(im->scratch[i]));
    for (int i = 0; i < 2; i++) {
        if (im->up_host[i]) KC_REL(cudaFreeHost(im->up_host[i]));
        if (im->up_done[i]) KC_REL(cudaEventDestroy(im->up_done[i]));
    }
    if (im->down_host) KC_REL(cudaFreeHost(im->down_host));
    if (im->sumsq_host) KC_REL(cudaFreeHost(im->sumsq_host));
    if (im->ev_compute) KC_REL(cudaEventDestroy(im->ev_compute));
    if (im->copy) KC_REL(cudaStreamDestroy(im->copy));
    if (im->stream) KC_REL(cudaStreamDestroy(im->stream));
#undef KC_REL
    if (!checked) (void)cudaGetLastError();
}

static void kc_close(kb_backend *be) {
    if (!be) return;
    kc_impl *im = kc_enter(be);
    kc_release(im, 1);
    free(im);
    free(be);
}

static void kc_fill_table(kb_backend *be) {
    be->close = kc_close;
    be->alloc = kc_alloc;
    be->free = kc_free;
    be->zero = kc_zero;
    be->copy = kc_copy;
    be->upload = kc_upload;
    be->download = kc_download;
    be->upload_raw = kc_upload_raw;
    be->download_raw = kc_download_raw;
    be->convert = kcu_convert;
    be->synchronize = kc_synchronize;

    be->gemm = kcu_gemm;
    be->embedding_fwd = kcu_embedding_fwd;
    be->embedding_bwd = kcu_embedding_bwd;
    be->rmsnorm_fwd = kcu_rmsnorm_fwd;
    be->rmsnorm_bwd = kcu_rmsnorm_bwd;
    be->rope_fwd = kcu_rope_fwd;
    be->rope_bwd = kcu_rope_bwd;
    be->attention_fwd = kcu_attention_fwd;
    be->attention_bwd = kcu_attention_bwd;
    be->swiglu_fwd = kcu_swiglu_fwd;
    be->swiglu_bwd = kcu_swiglu_bwd;
    be->silu_fwd = kcu_silu_fwd;
    be->silu_bwd = kcu_silu_bwd;
    be->add = kcu_add;
    be->add_cols = kcu_add_cols;
    be->scale = kcu_scale;
    be->sumsq = kcu_sumsq;
    be->crossentropy = kcu_crossentropy;
    be->quant_int8 = kcu_quant_int8;
    be->dequant_int8 = kcu_dequant_int8;
    be->adam_step = kcu_adam_step;
    be->nesterov_step = kcu_nesterov_step;
}

extern "C" int orionsim_cuda_device_count(void) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return n;
}

extern "C" kb_backend *orionsim_cuda_open(int device, kb_dtype act, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    if (act != KB_F32 && act != KB_BF16) {
        kc_errf(err, errlen, "unknown activation type %d", (int)act);
        return NULL;
    }
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        kc_errf(err, errlen, "no usable CUDA device (%s)", cudaGetErrorString(e));
        return NULL;
    }
    if (count <= 0) {
        kc_errf(err, errlen, "no CUDA device");
        return NULL;
    }
    if (device < 0 || device >= count) {
        kc_errf(err, errlen, "CUDA device %d does not exist (%d device%s)", device, count,
                count == 1 ? "" : "s");
        return NULL;
    }

    kc_impl *im = (kc_impl *)calloc(1, sizeof *im);
    kb_backend *be = (kb_backend *)calloc(1, sizeof *be);
    if (!im || !be) {
        free(im);
        free(be);
        kc_errf(err, errlen, "out of host memory");
        return NULL;
    }
    im->device = device;

    /* Each step that can fail: on failure, note what and why, clean up, return NULL. */
    const char *what = NULL;
    const char *why = NULL;
#define KC_TRY(call)                                                                               \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            what = #call;                                                                          \
            why = cudaGetErrorString(e_);                                                          \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)
    {
        KC_TRY(cudaSetDevice(device));
        cudaDeviceProp prop;
        KC_TRY(cudaGetDeviceProperties(&prop, device));
        im->num_sms = prop.multiProcessorCount;
        cudaFuncAttributes fa;
        e = cudaFuncGetAttributes(&fa, kc_probe_kernel);
        if (e != cudaSuccess) {
            (void)cudaGetLastError();
            kc_errf(err, errlen,
                    "GPU %d (%s, sm_%d%d) cannot run this plugin's code (%s); rebuild with "
                    "CUDA_ARCH for this architecture",
                    device, prop.name, prop.major, prop.minor, cudaGetErrorString(e));
            kc_release(im, 0);
            free(im);
            free(be);
            return NULL;
        }
        KC_TRY(cudaStreamCreateWithFlags(&im->stream, cudaStreamNonBlocking));
        KC_TRY(cudaStreamCreateWithFlags(&im->copy, cudaStreamNonBlocking));
        KC_TRY(cudaEventCreateWithFlags(&im->ev_compute, cudaEventDisableTiming));
        KC_TRY(cudaEventCreateWithFlags(&im->up_done[0], cudaEventDisableTiming));
        KC_TRY(cudaEventCreateWithFlags(&im->up_done[1], cudaEventDisableTiming));
        KC_TRY(cudaMallocHost((void **)&im->sumsq_host, sizeof(double)));
        KC_TRY(cudaMalloc(&im->cublas_ws, KC_CUBLAS_WS_BYTES));
        im->cublas_ws_bytes = KC_CUBLAS_WS_BYTES;
        cublasStatus_t s = cublasCreate(&im->cublas);
        if (s != CUBLAS_STATUS_SUCCESS) {
            im->cublas = NULL;
            what = "cublasCreate";
            why = cublasGetStatusString(s);
            goto fail;
        }
        s = cublasSetStream(im->cublas, im->stream);
        if (s == CUBLAS_STATUS_SUCCESS)
            s = cublasSetWorkspace(im->cublas, im->cublas_ws, im->cublas_ws_bytes);
        /* true fp32 GEMMs: no TF32 (CUBLAS_DEFAULT_MATH with CUBLAS_COMPUTE_32F) */
        if (s == CUBLAS_STATUS_SUCCESS) s = cublasSetMathMode(im->cublas, CUBLAS_DEFAULT_MATH);
        if (s != CUBLAS_STATUS_SUCCESS) {
            what = "cublas setup";
            why = cublasGetStatusString(s);
            goto fail;
        }
    }
#undef KC_TRY

    be->name = "cuda";
    be->act = act;
    be->device = device;
    be->impl = im;
    kc_fill_table(be);
    return be;

fail:
    kc_errf(err, errlen, "CUDA backend setup failed: %s: %s", what, why);
    kc_release(im, 0);
    free(im);
    free(be);
    return NULL;
}
