/* tests/kernels/test_model.c: parameter counts, balanced split, activation bytes and FLOPs. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/model.h"
#include "tests/check_main.h"

/* A model small enough to count by hand: d 8, 3 blocks, 2 heads of 4, 1 KV head,
 * ffn 16, vocab 32, sequences of 4 tokens.
 *   block: q 8·8 = 64, k and v 8·4 = 32 each, o 64, gate/up/down 3·8·16 = 384,
 *          norms 2·8 = 16                                  -> 592 (576 in matmuls)
 *   embedding 32·8 = 256, head 256 + 8 = 264, total 256 + 3·592 + 264 = 2296. */
static km_config tiny(void) {
    km_config c = {
        .d_model = 8,
        .n_blocks = 3,
        .n_heads = 2,
        .n_kv_heads = 1,
        .head_dim = 4,
        .ffn = 16,
        .vocab = 32,
        .seq_len = 4,
        .rope_theta = 1e4,
        .norm_eps = 1e-5,
        .dtype_bytes = 2,
    };
    return c;
}

static const km_boundary none = {KM_COMP_NONE, 0, 0};

START_TEST(orion_parameter_count) {
    km_config c = km_orion_100b();
    ck_assert_int_eq(km_config_validate(&c, NULL, 0), 0);
    /* attention 2·9216² + 2·9216·1024, MLP 3·9216·32256, norms 2·9216 */
    ck_assert_int_eq(km_params_block_matmul(&c), 1080557568LL);
    ck_assert_int_eq(km_params_block(&c), 1080576000LL);
    ck_assert_int_eq(km_params_embedding(&c), 1182007296LL);
    ck_assert_int_eq(km_params_head(&c), 1182016512LL);
    ck_assert_int_eq(km_params_total(&c), 99615863808LL);
    ck_assert_int_eq(km_params_matmul(&c), 99615863808LL - 1182007296LL);
}
END_TEST

START_TEST(tiny_parameter_count) {
    km_config c = tiny();
    ck_assert_int_eq(km_config_validate(&c, NULL, 0), 0);
    ck_assert_int_eq(km_params_block_matmul(&c), 576);
    ck_assert_int_eq(km_params_block(&c), 592);
    ck_assert_int_eq(km_params_embedding(&c), 256);
    ck_assert_int_eq(km_params_head(&c), 264);
    ck_assert_int_eq(km_params_total(&c), 2296);
    ck_assert_int_eq(km_params_matmul(&c), 2040);
}
END_TEST

static void expect_invalid(const km_config *c, const char *field) {
    char msg[256] = "";
    ck_assert_int_eq(km_config_validate(c, msg, sizeof msg), -1);
    ck_assert_msg(strstr(msg, field) != NULL, "message '%s' does not name %s", msg, field);
}

START_TEST(config_validation_names_the_field) {
    km_config c;
    c = tiny();
    c.d_model = 0;
    expect_invalid(&c, "d_model");
    c = tiny();
    c.n_blocks = -1;
    expect_invalid(&c, "n_blocks");
    c = tiny();
    c.n_heads = 0;
    expect_invalid(&c, "n_heads");
    c = tiny();
    c.n_kv_heads = 0;
    expect_invalid(&c, "n_kv_heads");
    c = tiny();
    c.ffn = 0;
    expect_invalid(&c, "ffn");
    c = tiny();
    c.vocab = 0;
    expect_invalid(&c, "vocab");
    c = tiny();
    c.seq_len = 0;
    expect_invalid(&c, "seq_len");
    c = tiny();
    c.dtype_bytes = 0;
    expect_invalid(&c, "dtype_bytes");
    c = tiny();
    c.rope_theta = 0;
    expect_invalid(&c, "rope_theta");
    c = tiny();
    c.norm_eps = -1e-5;
    expect_invalid(&c, "norm_eps");
    c = tiny();
    c.d_model = 12;
    expect_invalid(&c, "d_model"); /* 2 × 4 != 12 */
    c = tiny();
    c.n_kv_heads = 3;
    expect_invalid(&c, "n_kv_heads"); /* 3 does not divide 2 */
    c = tiny();
    c.n_heads = 8;
    c.head_dim = 1;
    expect_invalid(&c, "head_dim"); /* odd */
}
END_TEST

START_TEST(orion_balanced_split_is_iotas) {
    km_config c = km_orion_100b();
    /* 1,182,007,296 / 1,080,576,000 = 1.094 -> 2 slots at each end; cap ceil(94/16) = 6 */
    ck_assert_int_eq(km_block_slots(&c, km_params_embedding(&c)), 2);
    ck_assert_int_eq(km_block_slots(&c, km_params_head(&c)), 2);
    km_split sp = km_split_balanced(&c, 16);
    const int iota[16] = {4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 4};
    ck_assert_int_eq(sp.n_stages, 16);
    for (int i = 0; i < 16; i++) ck_assert_int_eq(sp.blocks[i], iota[i]);
    ck_assert_int_eq(km_split_validate(&c, &sp, NULL, 0), 0);
}
END_TEST

START_TEST(balanced_split_small_cases_by_hand) {
    km_config c = tiny();
    /* slots 1 and 1 (256 and 264 < 592); 3 blocks, 2 stages: cap ceil(5/2) = 3 gives
     * 2 + 2 > 3, the last stage gives one back. */
    km_split sp = km_split_balanced(&c, 2);
    ck_assert_int_eq(sp.n_stages, 2);
    ck_assert_int_eq(sp.blocks[0], 2);
    ck_assert_int_eq(sp.blocks[1], 1);
    /* 10 blocks over 4 stages: cap ceil(12/4) = 3 -> [2, 3, 3, 2] */
    c.n_blocks = 10;
    sp = km_split_balanced(&c, 4);
    const int want4[4] = {2, 3, 3, 2};
    for (int i = 0; i < 4; i++) ck_assert_int_eq(sp.blocks[i], want4[i]);
    /* 10 blocks over 6 stages: cap ceil(12/6) = 2 -> ends 1, middle 8 over 4 */
    sp = km_split_balanced(&c, 6);
    const int want6[6] = {1, 2, 2, 2, 2, 1};
    for (int i = 0; i < 6; i++) ck_assert_int_eq(sp.blocks[i], want6[i]);
    /* A huge vocabulary: embedding 8000 -> 14 slots, head 8008 -> 14 slots. 6 blocks
     * over 3 stages: cap ceil(34/3) = 12, both ends at the minimum of one block. */
    c.vocab = 1000;
    c.n_blocks = 6;
    ck_assert_int_eq(km_block_slots(&c, km_params_embedding(&c)), 14);
    sp = km_split_balanced(&c, 3);
    ck_assert_int_eq(sp.blocks[0], 1);
    ck_assert_int_eq(sp.blocks[1], 4);
    ck_assert_int_eq(sp.blocks[2], 1);
    /* single stage; impossible requests */
    sp = km_split_balanced(&c, 1);
    ck_assert_int_eq(sp.n_stages, 1);
    ck_assert_int_eq(sp.blocks[0], 6);
    ck_assert_int_eq(km_split_balanced(&c, 7).n_stages, 0);
    ck_assert_int_eq(km_split_balanced(&c, 0).n_stages, 0);
}
END_TEST

/* The documented rule, checked over many shapes: every stage has a block, the sum is
 * right, the middle is even (non-increasing, spread <= 1) and no middle stage exceeds
 * the capacity; the ends carry cap minus their slots unless that would starve the
 * middle. */
START_TEST(balanced_split_rule_holds_everywhere) {
    km_config c = tiny();
    const int vocabs[3] = {32, 200, 1000};
    for (int vi = 0; vi < 3; vi++) {
        c.vocab = vocabs[vi];
        for (int L = 1; L <= 40; L++) {
            c.n_blocks = L;
            const int e0 = km_block_slots(&c, km_params_embedding(&c));
            const int e1 = km_block_slots(&c, km_params_head(&c));
            for (int S = 1; S <= L && S <= 24; S++) {
                km_split sp = km_split_balanced(&c, S);
                char msg[128];
                ck_assert_msg(km_split_validate(&c, &sp, msg, sizeof msg) == 0, "L=%d S=%d: %s", L,
                              S, msg);
                if (S < 3) continue;
                const int cap = (L + e0 + e1 + S - 1) / S;
                for (int i = 1; i < S - 1; i++) {
                    ck_assert_int_le(sp.blocks[i], cap);
                    if (i > 1) {
                        ck_assert_int_le(sp.blocks[i], sp.blocks[i - 1]);
                        ck_assert_int_le(sp.blocks[1] - sp.blocks[i], 1);
                    }
                }
                const int want0 = cap - e0 < 1 ? 1 : cap - e0;
                const int want1 = cap - e1 < 1 ? 1 : cap - e1;
                if (L - want0 - want1 >= S - 2) {
                    ck_assert_int_eq(sp.blocks[0], want0);
                    ck_assert_int_eq(sp.blocks[S - 1], want1);
                }
            }
        }
    }
}
END_TEST

START_TEST(split_validation) {
    km_config c = tiny();
    km_split sp = {.n_stages = 2, .blocks = {2, 2}};
    char msg[128] = "";
    ck_assert_int_eq(km_split_validate(&c, &sp, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "sum"));
    sp.blocks[1] = 0;
    sp.blocks[0] = 3;
    ck_assert_int_eq(km_split_validate(&c, &sp, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "blocks[1]"));
    sp.n_stages = 0;
    ck_assert_int_eq(km_split_validate(&c, &sp, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "n_stages"));
    sp.n_stages = 2;
    sp.blocks[0] = 1;
    sp.blocks[1] = 2;
    ck_assert_int_eq(km_split_validate(&c, &sp, msg, sizeof msg), 0);
}
END_TEST

START_TEST(boundary_parameters) {
    km_config c = km_orion_100b();
    km_boundary r = {KM_COMP_RESBM, 144, 256};
    /* encoder 9216 + 9216·256 + 256·144, decoder 144·256 + 256·9216 */
    ck_assert_int_eq(km_params_encoder(&c, &r), 9216 + 2359296 + 36864);
    ck_assert_int_eq(km_params_decoder(&c, &r), 36864 + 2359296);
    ck_assert_int_eq(km_params_boundary(&c, &r), 2405376 + 2396160);
    km_boundary lin = {KM_COMP_LINEAR, 144, 0};
    ck_assert_int_eq(km_params_boundary(&c, &lin), 2 * 9216 * 144);
    km_boundary q8 = {KM_COMP_INT8, 0, 0};
    ck_assert_int_eq(km_params_boundary(&c, &q8), 0);
    ck_assert_int_eq(km_params_boundary(&c, &none), 0);

    char msg[128] = "";
    ck_assert_int_eq(km_boundary_validate(&c, &r, msg, sizeof msg), 0);
    km_boundary bad = {KM_COMP_RESBM, 144, 0};
    ck_assert_int_eq(km_boundary_validate(&c, &bad, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "hidden"));
    bad = (km_boundary){KM_COMP_LINEAR, 9217, 0};
    ck_assert_int_eq(km_boundary_validate(&c, &bad, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "compression.k"));
    ck_assert_int_eq(km_boundary_validate(&c, &q8, msg, sizeof msg), 0);
}
END_TEST

START_TEST(stage_parameters_sum_to_total) {
    km_config c = km_orion_100b();
    km_split sp = km_split_balanced(&c, 16);
    km_boundary r = {KM_COMP_RESBM, 144, 256};
    int64_t sum_none = 0, sum_resbm = 0;
    for (int s = 0; s < 16; s++) {
        sum_none += km_params_stage(&c, &sp, &none, s);
        sum_resbm += km_params_stage(&c, &sp, &r, s);
    }
    ck_assert_int_eq(sum_none, 99615863808LL);
    ck_assert_int_eq(sum_resbm, 99615863808LL + 15 * km_params_boundary(&c, &r));
    /* stage 0: 4 blocks + embedding + encoder; stage 15: 4 blocks + head + decoder */
    ck_assert_int_eq(km_params_stage(&c, &sp, &r, 0), 4 * 1080576000LL + 1182007296LL + 2405376);
    ck_assert_int_eq(km_params_stage(&c, &sp, &r, 15), 4 * 1080576000LL + 1182016512LL + 2396160);
    ck_assert_int_eq(km_params_stage(&c, &sp, &r, 16), -1);
    ck_assert_int_eq(km_params_stage(&c, &sp, &r, -1), -1);
}
END_TEST

START_TEST(activation_bytes) {
    km_config c = km_orion_100b();
    ck_assert_int_eq(km_activation_bytes_raw(&c, 8000), 147456000LL);
    ck_assert_int_eq(km_activation_bytes(&c, &none, 8000), 147456000LL);
    km_boundary r = {KM_COMP_RESBM, 144, 256};
    ck_assert_int_eq(km_activation_bytes(&c, &r, 8000), 2304000LL);
    km_boundary lin = {KM_COMP_LINEAR, 144, 0};
    ck_assert_int_eq(km_activation_bytes(&c, &lin, 8000), 2304000LL);
    km_boundary q8 = {KM_COMP_INT8, 0, 0};
    ck_assert_int_eq(km_activation_bytes(&c, &q8, 8000), 8000LL * 9216 + 8000LL * 4);
    /* 140.625 MiB and 2.197 MiB as published */
    ck_assert_double_eq_tol(km_activation_bytes_raw(&c, 8000) / 1048576.0, 140.625, 1e-12);
    ck_assert_double_eq_tol(km_activation_bytes(&c, &r, 8000) / 1048576.0, 2.197, 5e-4);
}
END_TEST

START_TEST(orion_model_flops_per_token) {
    km_config c = km_orion_100b();
    /* N from scratch: 90 blocks + final norm + LM head; attention term 12·L·nh·hd·seq */
    const double d = 9216, kv = 8 * 128, f = 32256, V = 128256;
    const double block = 2 * d * d + 2 * d * kv + 3 * d * f + 2 * d;
    const double N = 90 * block + d + V * d;
    const double want = 6 * N + 12.0 * 90 * 72 * 128 * 800;
    ck_assert_double_eq(km_model_flops_per_token(&c), want);
    ck_assert_double_eq(km_model_flops_per_token(&c), 598565763072.0);
    km_boundary r = {KM_COMP_RESBM, 144, 256};
    ck_assert_double_eq(km_model_flops_per_token_compressed(&c, &r, 16),
                        want + 6.0 * 15 * (2405376 + 2396160));
    ck_assert_double_eq(km_model_flops_per_token_compressed(&c, &r, 1), want);
}
END_TEST

/* SPEC §3.1: a 6-block stage costs ~3.15e14 FLOPs per 8000-token microbatch forward +
 * backward, ~4.2e14 with recompute. */
START_TEST(orion_six_block_stage_matches_spec) {
    km_config c = km_orion_100b();
    km_split sp = km_split_balanced(&c, 16);
    ck_assert_int_eq(sp.blocks[1], 6);
    const double fwd = km_task_flops(&c, &sp, &none, 1, KM_TASK_FORWARD, 8000);
    const double bwd = km_task_flops(&c, &sp, &none, 1, KM_TASK_BACKWARD, 8000);
    const double rec = km_task_flops(&c, &sp, &none, 1, KM_TASK_BACKWARD_RECOMPUTE, 8000);
    /* exactly: 2·6·1,080,557,568·8000 + 6·2·72·128·800·8000 */
    ck_assert_double_eq(fwd, 104441315328000.0);
    ck_assert_double_eq(bwd, 2 * fwd);
    ck_assert_double_eq(rec, 3 * fwd);
    ck_assert_double_le(fabs((fwd + rec) / 4.2e14 - 1), 0.05);
    ck_assert_double_le(fabs((fwd + bwd) / 3.15e14 - 1), 0.05);
    /* ResBM with a modest hidden width barely moves it */
    km_boundary r = {KM_COMP_RESBM, 144, 256};
    const double fwd_r = km_task_flops(&c, &sp, &r, 1, KM_TASK_FORWARD, 8000);
    ck_assert_double_eq(fwd_r, fwd + 2.0 * (2359296 + 36864 + 36864 + 2359296) * 8000);
}
END_TEST

START_TEST(orion_end_stages) {
    km_config c = km_orion_100b();
    km_split sp = km_split_balanced(&c, 16);
    const double n = 8000, attn = 2.0 * 72 * 128 * 800 * n;
    /* stage 0: no FLOPs for the embedding lookup */
    ck_assert_double_eq(km_task_flops(&c, &sp, &none, 0, KM_TASK_FORWARD, 8000),
                        2.0 * 4 * 1080557568.0 * n + 4 * attn);
    /* last stage: the LM head is a matmul */
    const double last = 2.0 * (4 * 1080557568.0 + 128256.0 * 9216) * n + 4 * attn;
    ck_assert_double_eq(km_task_flops(&c, &sp, &none, 15, KM_TASK_FORWARD, 8000), last);
    ck_assert_double_eq(km_task_flops(&c, &sp, &none, 15, KM_TASK_LAST_FUSED, 8000), 3 * last);
    ck_assert_double_eq(km_task_flops(&c, &sp, &none, 15, KM_TASK_OPTIMIZER, 8000),
                        12.0 * (4 * 1080576000.0 + 1182016512.0));
    ck_assert_double_eq(km_task_flops(&c, &sp, &none, 16, KM_TASK_FORWARD, 8000), -1.0);
    ck_assert_double_eq(km_task_flops(&c, &sp, &none, 0, KM_TASK_KINDS, 8000), -1.0);
}
END_TEST

/* Tiny model, 2 stages [2, 1], 8 tokens (2 sequences of 4), ResBM k 2 hidden 4:
 *   attention per block 2·2·4·4·8 = 512 (2·nh·hd·T·n)
 *   encoder 8 + 8·4 + 4·2 = 48 (40 in matmuls), decoder 2·4 + 4·8 = 40
 *   stage 0 forward 2·(2·576 + 40)·8 + 2·512 = 20096
 *   stage 1 forward 2·(576 + 256 + 40)·8 + 512 = 14464
 *   params stage 0: 256 + 2·592 + 48 = 1488, stage 1: 592 + 264 + 40 = 896. */
START_TEST(tiny_flops_by_hand) {
    km_config c = tiny();
    km_split sp = km_split_balanced(&c, 2);
    km_boundary r = {KM_COMP_RESBM, 2, 4};
    ck_assert_int_eq(km_params_stage(&c, &sp, &r, 0), 1488);
    ck_assert_int_eq(km_params_stage(&c, &sp, &r, 1), 896);
    ck_assert_int_eq(km_params_stage_matmul(&c, &sp, &r, 0), 2 * 576 + 40);
    ck_assert_int_eq(km_params_stage_matmul(&c, &sp, &r, 1), 576 + 256 + 40);
    ck_assert_double_eq(km_task_flops(&c, &sp, &r, 0, KM_TASK_FORWARD, 8), 20096);
    ck_assert_double_eq(km_task_flops(&c, &sp, &r, 0, KM_TASK_BACKWARD, 8), 40192);
    ck_assert_double_eq(km_task_flops(&c, &sp, &r, 0, KM_TASK_BACKWARD_RECOMPUTE, 8), 60288);
    ck_assert_double_eq(km_task_flops(&c, &sp, &r, 1, KM_TASK_FORWARD, 8), 14464);
    ck_assert_double_eq(km_task_flops(&c, &sp, &r, 1, KM_TASK_LAST_FUSED, 8), 43392);
    ck_assert_double_eq(km_task_flops(&c, &sp, &r, 0, KM_TASK_OPTIMIZER, 8), 12 * 1488);
    /* model FLOPs per token: 6·2040 + 12·3·2·4·4 = 12240 + 1152 */
    ck_assert_double_eq(km_model_flops_per_token(&c), 13392);
    ck_assert_double_eq(km_model_flops_per_token_compressed(&c, &r, 2), 13392 + 6 * 88);
    ck_assert_int_eq(km_activation_bytes(&c, &r, 8), 8 * 2 * 2);
    ck_assert_int_eq(km_activation_bytes_raw(&c, 8), 8 * 8 * 2);
}
END_TEST

START_TEST(task_names) {
    ck_assert_str_eq(km_task_name(KM_TASK_FORWARD), "forward");
    ck_assert_str_eq(km_task_name(KM_TASK_BACKWARD), "backward");
    ck_assert_str_eq(km_task_name(KM_TASK_BACKWARD_RECOMPUTE), "backward_recompute");
    ck_assert_str_eq(km_task_name(KM_TASK_LAST_FUSED), "last_fused");
    ck_assert_str_eq(km_task_name(KM_TASK_OPTIMIZER), "optimizer");
    ck_assert_str_eq(km_task_name(KM_TASK_KINDS), "?");
}
END_TEST

static Suite *model_suite(void) {
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("accounting");
    tcase_add_test(tc, orion_parameter_count);
    tcase_add_test(tc, tiny_parameter_count);
    tcase_add_test(tc, config_validation_names_the_field);
    tcase_add_test(tc, orion_balanced_split_is_iotas);
    tcase_add_test(tc, balanced_split_small_cases_by_hand);
    tcase_add_test(tc, balanced_split_rule_holds_everywhere);
    tcase_add_test(tc, split_validation);
    tcase_add_test(tc, boundary_parameters);
    tcase_add_test(tc, stage_parameters_sum_to_total);
    tcase_add_test(tc, activation_bytes);
    tcase_add_test(tc, orion_model_flops_per_token);
    tcase_add_test(tc, orion_six_block_stage_matches_spec);
    tcase_add_test(tc, orion_end_stages);
    tcase_add_test(tc, tiny_flops_by_hand);
    tcase_add_test(tc, task_names);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = model_suite)
