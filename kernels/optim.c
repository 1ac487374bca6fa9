/* kernels/optim.c: scalar side of the inner and outer optimizers (see kernels/optim.h). */
#include "kernels/optim.h"
#include "kernels/kcheck.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

/* PyTorch's defaults for the values IOTA does not set. */
#define KO_DEFAULT_EPS 1e-8
#define KO_DEFAULT_MOMENTUM_DECAY 0.004

ko_inner_state ko_inner_init(ko_inner_kind kind, double lr, double beta1, double beta2,
                             double weight_decay) {
    ko_inner_state s = {
        .kind = kind,
        .lr = lr,
        .beta1 = beta1,
        .beta2 = beta2,
        .eps = KO_DEFAULT_EPS,
        .weight_decay = weight_decay,
        .momentum_decay = KO_DEFAULT_MOMENTUM_DECAY,
        .step = 0,
        .mu_product = 1.0,
    };
    return s;
}

double ko_iota_beta1(int stage, int n_stages) {
    return 0.9 + 0.09 * (double)(n_stages - (stage + 1)) / (double)n_stages;
}

ko_inner_state ko_inner_iota(int stage, int n_stages) {
    return ko_inner_init(KO_NADAM, 2e-4, ko_iota_beta1(stage, n_stages), 0.95, 0.1);
}

int ko_inner_validate(const ko_inner_state *s, char *msg, size_t msglen) {
    if (s->kind != KO_ADAMW && s->kind != KO_NADAM)
        return k_fail(msg, msglen, "optimizer.kind = %d: unknown", (int)s->kind);
    if (!(s->lr >= 0)) return k_fail(msg, msglen, "optimizer.lr = %g: must be >= 0", s->lr);
    /* in [0, 1) also once rounded to fp32, as the kernels see them */
    if (!(s->beta1 >= 0 && (float)s->beta1 < 1.0f))
        return k_fail(msg, msglen, "optimizer.beta1 = %.9g: must be in [0, 1) in fp32", s->beta1);
    if (!(s->beta2 >= 0 && (float)s->beta2 < 1.0f))
        return k_fail(msg, msglen, "optimizer.beta2 = %.9g: must be in [0, 1) in fp32", s->beta2);
    if (!(s->eps >= 0)) return k_fail(msg, msglen, "optimizer.eps = %g: must be >= 0", s->eps);
    if (!(s->weight_decay >= 0))
        return k_fail(msg, msglen, "optimizer.weight_decay = %g: must be >= 0", s->weight_decay);
    if (!(s->momentum_decay >= 0))
        return k_fail(msg, msglen, "optimizer.momentum_decay = %g: must be >= 0",
                      s->momentum_decay);
    return 0;
}

/* The betas as the device kernels see them (kb_adam_coef carries fp32). The host
 * scalars are computed in double from these, so the bias corrections match the moment
 * recursions the kernels run: with b2 = 0.999, mixing the double 0.999 into c_v with
 * the fp32 0.999 in v's recursion would bias v^ by 1.3e-5 relative. */
static double fp32(double x) { return (double)(float)x; }

double ko_nadam_mu(const ko_inner_state *s, int64_t t) {
    return fp32(s->beta1) * (1.0 - 0.5 * pow(0.96, (double)t * s->momentum_decay));
}

kb_adam_coef ko_adam_coef(const ko_inner_state *s) {
    const int64_t t = s->step + 1;
    const double b1 = fp32(s->beta1), b2 = fp32(s->beta2);
    kb_adam_coef c = {
        .lr = (float)s->lr,
        .b1 = (float)s->beta1,
        .b2 = (float)s->beta2,
        .eps = (float)s->eps,
        .wd = (float)s->weight_decay,
    };
    c.c_v = (float)(1.0 / (1.0 - pow(b2, (double)t)));
    if (s->kind == KO_NADAM) {
        const double mu = ko_nadam_mu(s, t), mu_next = ko_nadam_mu(s, t + 1);
        const double prod = s->mu_product * mu;  /* prod_{i<=t} mu_i */
        const double prod_next = prod * mu_next; /* prod_{i<=t+1} mu_i */
        c.c_m = (float)(mu_next / (1.0 - prod_next));
        c.c_g = (float)((1.0 - mu) / (1.0 - prod));
    } else {
        c.c_m = (float)(1.0 / (1.0 - pow(b1, (double)t)));
        c.c_g = 0.0f;
    }
    return c;
}

void ko_inner_advance(ko_inner_state *s) {
    s->step++;
    if (s->kind == KO_NADAM) s->mu_product *= ko_nadam_mu(s, s->step);
}

kb_adam_coef ko_adam_next(ko_inner_state *s) {
    kb_adam_coef c = ko_adam_coef(s);
    ko_inner_advance(s);
    return c;
}

double ko_clip_scale(double norm, double max_norm) {
    if (!(max_norm > 0)) return 1.0;
    const double coef = max_norm / (norm + 1e-6);
    if (isnan(coef) || coef < 1.0) return coef;
    return 1.0;
}

ko_outer_params ko_outer_diloco(void) {
    ko_outer_params o = {.lr = 0.7, .momentum = 0.9};
    return o;
}

ko_range ko_partition(size_t n, int n_parts, int i) {
    ko_range r = {0, 0};
    if (n_parts < 1 || i < 0 || i >= n_parts) return r;
    const size_t P = (size_t)n_parts, u = (size_t)i;
    const size_t base = n / P, extra = n % P;
    r.begin = u * base + (u < extra ? u : extra);
    r.end = r.begin + base + (u < extra ? 1 : 0);
    return r;
}
