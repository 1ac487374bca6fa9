/* sim/cli/cmd_check.c: `orionsim check FILE [--set key.path=value]... [--keys]`: validate a scenario and
 * print a one-screen summary of what it resolves to, or the first error (exit 2). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/model.h"
#include "sim/cli/commands.h"
#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_schema.h"
#include "sim/base/util.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: orionsim check FILE [--set key.path=value]...\n"
            "       orionsim check --keys\n\n"
            "Validates a scenario file (unknown keys, types, ranges, inconsistent combinations)\n"
            "and prints a summary of what it resolves to. --keys prints every key of the schema\n"
            "with its type, default, units and meaning.\n\n"
            "  --set key.path=value   override a key (repeatable), e.g. --set training.H=100\n"
            "  --keys                 print the scenario schema\n\n"
            "exit codes: 0 valid, 2 invalid\n");
}

static const char *const method_names[] = {"none", "resbm", "linear", "int8"};
static const char *const sync_names[] = {"iota-butterfly", "ring", "ddp"};
static const char *const bw_names[] = {"fixed", "lognormal", "table", "list"};

static void print_split(const km_split *s) {
    printf("[");
    for (int i = 0; i < s->n_stages; i++) printf("%s%d", i ? "," : "", s->blocks[i]);
    printf("]");
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void print_links(const sim_scenario *sc) {
    int P = sc->swarm.n_peers;
    double *up = xcalloc((size_t)P, sizeof *up), *down = xcalloc((size_t)P, sizeof *down);
    for (int p = 0; p < P; p++) {
        up[p] = sc->swarm.peers[p].up_bytes_per_s * 8e-6;
        down[p] = sc->swarm.peers[p].down_bytes_per_s * 8e-6;
    }
    qsort(up, (size_t)P, sizeof *up, cmp_double);
    qsort(down, (size_t)P, sizeof *down, cmp_double);
    printf("  links         %s; up min/median/max %.0f/%.0f/%.0f Mbit/s, down %.0f/%.0f/%.0f\n",
           bw_names[sc->swarm.bandwidth.kind], up[0], up[P / 2], up[P - 1], down[0], down[P / 2],
           down[P - 1]);
    free(up);
    free(down);
}

static void print_fleet(const sim_scenario *sc) {
    int *count = xcalloc((size_t)sc->devices.n, sizeof *count);
    for (int p = 0; p < sc->swarm.n_peers; p++) count[sc->swarm.peers[p].device]++;
    printf("  devices      ");
    int first = 1;
    for (int d = 0; d < sc->devices.n; d++)
        if (count[d]) {
            printf("%s %d x %s (%.1f TFLOP/s bf16)", first ? "" : ",", count[d],
                   sc->devices.dev[d].name, sc->devices.dev[d].bf16_flops * 1e-12);
            first = 0;
        }
    if (sc->swarm.gpus_per_peer > 1) printf(", %d GPUs per peer", sc->swarm.gpus_per_peer);
    printf("\n  fleet peak    %.4g PFLOP/s\n", sim_scenario_peak_flops(sc) * 1e-15);
    free(count);
    int *in_region = xcalloc((size_t)sc->network.n_regions, sizeof *in_region);
    for (int p = 0; p < sc->swarm.n_peers; p++) in_region[sc->swarm.peers[p].region]++;
    printf("  regions      ");
    for (int r = 0; r < sc->network.n_regions; r++)
        printf("%s %s (%d)", r ? "," : "", sc->network.regions[r], in_region[r]);
    printf("\n");
    free(in_region);
    print_links(sc);
    double cost = 0;
    int unknown = 0;
    for (int p = 0; p < sc->swarm.n_peers; p++) {
        if (isnan(sc->swarm.peers[p].price_per_hour)) unknown++;
        else cost += sc->swarm.peers[p].price_per_hour;
    }
    if (unknown)
        printf("  price         unknown for %d of %d peers (no published price)\n", unknown,
               sc->swarm.n_peers);
    else printf("  price         $%.2f per hour for the fleet\n", cost);
}

static void print_faults(const sim_scenario *sc) {
    const sim_faults *f = &sc->faults;
    printf("  faults       ");
    int any = 0;
    if (f->churn.enabled) {
        printf(" churn (mtbf %.3g h, mttr %.3g h)", f->churn.mtbf_s / 3600, f->churn.mttr_s / 3600);
        any = 1;
    }
    if (f->spot.enabled) {
        int n = 0;
        for (int p = 0; p < sc->swarm.n_peers; p++) n += sc->swarm.peers[p].spot;
        printf("%s spot on %d peers (reclaim every %.3g h, notice %.0f s, restart %.0f s)",
               any ? ";" : "", n, f->spot.interval_s / 3600, f->spot.notice_s, f->spot.restart_s);
        any = 1;
    }
    if (f->stragglers.enabled) {
        printf("%s stragglers %.0f%% x%.2f", any ? ";" : "", f->stragglers.fraction * 100,
               f->stragglers.multiplier);
        any = 1;
    }
    if (f->n_profiles) {
        printf("%s %d profile file%s", any ? ";" : "", f->n_profiles,
               f->n_profiles == 1 ? "" : "s");
        any = 1;
    }
    printf("%s\n", any ? "" : " none");
}

static void print_summary(const sim_scenario *sc) {
    const km_config *m = &sc->model;
    const km_boundary *b = &sc->compression.boundary;
    printf("%s: ok\n", sc->path);
    printf("  name          %s%s%s\n", sc->name, sc->description[0] ? " - " : "", sc->description);
    printf(
        "  model         %lld parameters (d %d, %d blocks, %d heads / %d kv, ffn %d, vocab %d)\n",
        (long long)km_params_total(m), m->d_model, m->n_blocks, m->n_heads, m->n_kv_heads, m->ffn,
        m->vocab);
    printf("  pipeline      %d stage%s x %d replica%s = %d peers; split ",
           sc->pipeline.split.n_stages, sc->pipeline.split.n_stages == 1 ? "" : "s",
           sc->swarm.replicas, sc->swarm.replicas == 1 ? "" : "s", sc->swarm.n_peers);
    print_split(&sc->pipeline.split);
    printf("%s\n", sc->pipeline.split_explicit ? "" : " (balanced)");
    printf("  microbatch    %d x %d = %lld tokens\n", sc->training.microbatch_seqs,
           sc->training.seq_len, (long long)sc->training.microbatch_tokens);
    int64_t raw = km_activation_bytes_raw(m, sc->training.microbatch_tokens);
    int64_t comp = km_activation_bytes(m, b, sc->training.microbatch_tokens);
    if (sc->pipeline.split.n_stages == 1) {
        printf("  activation    no stage boundary (every peer holds the whole model)");
    } else {
        printf("  activation    %lld B (%.1f MiB) raw -> %lld B (%.2f MiB) per hop, %s",
               (long long)raw, raw / 1048576.0, (long long)comp, comp / 1048576.0,
               method_names[b->method]);
        if (b->method == KM_COMP_RESBM || b->method == KM_COMP_LINEAR)
            printf(" k = %d (%dx)", b->k, sc->compression.ratio);
    }
    printf("\n  training      H = %d, accum = %d, stop at ", sc->training.H, sc->training.accum);
    if (sc->training.cycles) printf("%d cycles\n", sc->training.cycles);
    else printf("%.3g tokens\n", sc->training.tokens);
    printf("  sync          %s, %s pseudo-gradients", sync_names[sc->sync.algorithm],
           sim_dtype_name(sc->sync.dtype));
    if (sc->sync.compression_ratio > 1) printf(" / %g", sc->sync.compression_ratio);
    if (sc->sync.algorithm == SIM_SYNC_IOTA_BUTTERFLY)
        printf(", %d partitions x %d owners publishing %s, quorum %.2g / %.2g", sc->sync.partitions,
               sc->sync.owners, sc->sync.publish == SIM_PUBLISH_UPDATE ? "the update" : "weights",
               sc->sync.upload_quorum, sc->sync.merge_quorum);
    if (sc->sync.overlap) printf(", overlapped with the next round's training");
    printf("\n");
    print_fleet(sc);
    printf("  compute       %s", sc->compute.mode == SIM_COMPUTE_MODELED ? "modeled" : "live");
    if (sc->compute.kernel_profile) printf(", kernel profile %s", sc->compute.kernel_profile);
    if (sc->compute.have_efficiency) {
        printf(", efficiency");
        for (int k = 0; k < SIM_EFF_KINDS; k++)
            printf(" %s %.2g", sim_eff_name((sim_eff_kind)k), sc->compute.efficiency[k]);
    }
    printf("\n");
    print_faults(sc);
    sim_memory_estimate mem = sim_scenario_memory(sc);
    printf("  memory        about %.3g MB for the run (%.3g MB per peer, estimated before "
           "allocating)\n",
           mem.total_bytes / 1e6, mem.per_peer_bytes / 1e6);
    if (sc->n_sets) {
        printf("  overrides    ");
        for (int i = 0; i < sc->n_sets; i++) printf(" --set %s", sc->sets[i]);
        printf("\n");
    }
    if (sc->reference.present) printf("  reference     %s\n", sc->reference.source);
    for (int i = 0; i < sc->n_notices; i++) printf("  notice        %s\n", sc->notices[i]);
}

int cmd_check(int argc, char **argv) {
    const char *file = NULL;
    const char **sets = xcalloc((size_t)argc, sizeof *sets);
    int n_sets = 0, keys = 0, rc = EXIT_INPUT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            rc = EXIT_OK;
            goto out;
        } else if (!strcmp(a, "--keys")) {
            keys = 1;
        } else if (!strcmp(a, "--set")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "orionsim check: --set needs key.path=value\n");
                goto out;
            }
            sets[n_sets++] = argv[++i];
        } else if (!strncmp(a, "--set=", 6)) {
            sets[n_sets++] = a + 6;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "orionsim check: unknown option '%s'\n", a);
            usage(stderr);
            goto out;
        } else if (file) {
            fprintf(stderr, "orionsim check: one scenario file at a time ('%s' and '%s')\n", file,
                    a);
            goto out;
        } else {
            file = a;
        }
    }
    if (keys) {
        sk_print(stdout);
        rc = EXIT_OK;
        if (!file) goto out;
    }
    if (!file) {
        usage(stderr);
        goto out;
    }
    sim_scenario sc;
    char err[2048];
    rc = sim_scenario_load(file, sets, n_sets, &sc, err, sizeof err);
    if (rc) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    print_summary(&sc);
    sim_scenario_free(&sc);
out:
    free(sets);
    return rc;
}
