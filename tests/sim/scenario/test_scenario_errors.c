/* tests/sim/scenario/test_scenario_errors.c: every bad-input path of the scenario loader.
 *
 * Each case writes MINI (tests/sim/scenario/scenario_testutil.h) with one line replaced or lines
 * appended, or applies a bad --set, and checks exit code 2 and that the message holds
 * "FILE:LINE: key" (or "--set ARG: key") and the reason.
 */
#include "tests/sim/scenario/scenario_testutil.h"
#include "tests/check_main.h"

typedef struct {
    int line;            /* MINI line to replace (0: none) */
    const char *repl;    /* replacement (NULL with line > 0: delete the line) */
    const char *append;  /* appended after line 12 */
    const char *set;     /* one --set, or NULL */
    const char *n1, *n2; /* needles; n1 usually ":LINE: key" */
} bad_case;

#define TRAIN "training = { seq_len = 16; microbatch_seqs = 2; H = 10; accum = 2; "
#define SWARM "swarm = { replicas = 2; region = \"a\"; "
#define NET "network = { regions = [\"a\", \"b\"]; "
#define COMPUTE_EFF                                                                                \
    "efficiency = { forward = 0.5; backward = 0.5; recompute = 0.5; optimizer = 0.8; merge = "     \
    "0.8; }; "

static const bad_case cases[] = {
    /* ---- unknown keys, with suggestions ---- */
    {0, NULL, "colour = 3;\n", NULL, ":13: colour", "unknown key"},
    {5, TRAIN "Hx = 1; cycles = 1; };", NULL, NULL, ":5: training.Hx", "did you mean 'training.H'"},
    {5, TRAIN "cache_capacity = 4; cycles = 1; };", NULL, NULL, ":5: training.cache_capacity",
     "did you mean 'pipeline.cache_capacity'"},
    {9, SWARM "device_mix = ( { devise = \"A100-80GB\"; fraction = 1.0; } );", NULL, NULL,
     ":9: swarm.device_mix[0].devise", "did you mean 'swarm.device_mix[].device'"},
    {0, NULL, "faults = { churn = { enable = true; }; };\n", NULL, ":13: faults.churn.enable",
     "did you mean 'faults.churn.enabled'"},
    /* ---- wrong types ---- */
    {1, "name = 5;", NULL, NULL, ":1: name", "expected a string, got an integer"},
    {3, "pipeline = { stages = \"two\"; };", NULL, NULL, ":3: pipeline.stages",
     "expected an integer, got a string"},
    {3, "pipeline = { stages = 2.0; };", NULL, NULL, ":3: pipeline.stages",
     "expected an integer, got a float"},
    {3, "pipeline = { stages = 2; recompute = 1; };", NULL, NULL, ":3: pipeline.recompute",
     "expected true or false"},
    {3, "pipeline = { stages = 2; split = 4; };", NULL, NULL, ":3: pipeline.split",
     "expected a list"},
    {3, "pipeline = { stages = 2; split = [\"2\", \"2\"]; };", NULL, NULL, ":3: pipeline.split[0]",
     "expected an integer"},
    {4, "compression = 5;", NULL, NULL, ":4: compression", "expected a group"},
    {7, NET "latency_ms = ( 1.0, 2.0 );", NULL, NULL, ":7: network.latency_ms[0]",
     "expected a row"},
    {9, SWARM "device_mix = 3;", NULL, NULL, ":9: swarm.device_mix", "expected a list of groups"},
    {9, SWARM "device_mix = ( 3 );", NULL, NULL, ":9: swarm.device_mix[0]", "expected a group"},
    {6, "sync = { algorithm = 3; };", NULL, NULL, ":6: sync.algorithm",
     "expected a string (one of"},
    /* ---- out of range ---- */
    {3, "pipeline = { stages = 0; };", NULL, NULL, ":3: pipeline.stages",
     "0 is out of range (must be in [1, 256])"},
    {3, "pipeline = { stages = 300; };", NULL, NULL, ":3: pipeline.stages", "out of range"},
    {4, "compression = { method = \"resbm\"; ratio = 0; };", NULL, NULL, ":4: compression.ratio",
     "out of range"},
    {6, "sync = { upload_quorum = 1.5; };", NULL, NULL, ":6: sync.upload_quorum",
     "must be in (0, 1]"},
    {6, "sync = { upload_quorum = 0.0; };", NULL, NULL, ":6: sync.upload_quorum", "out of range"},
    {7, NET "latency_ms = ( [1.0, -2.0], [2.0, 1.0] );", NULL, NULL, ":7: network.latency_ms[0][1]",
     "out of range"},
    {2,
     "model = { d_model = 64; n_blocks = 4; n_heads = 4; n_kv_heads = 2; ffn = 128; vocab = 256; "
     "rope_theta = 1e400; };",
     NULL, NULL, ":2: model.rope_theta", "not a finite number"},
    /* ---- missing keys ---- */
    {1, NULL, NULL, NULL, "/case.cfg: name", "missing required key"},
    {2, "model = { n_blocks = 4; n_heads = 4; n_kv_heads = 2; ffn = 128; vocab = 256; };", NULL,
     NULL, ":2: model.d_model", "missing required key"},
    {2, NULL, NULL, NULL, "model", "missing required group (it holds model.d_model)"},
    {11, "  bandwidth = { up_mbps = 100.0; down_mbps = 200.0; }; };", NULL, NULL,
     ":11: swarm.bandwidth.kind", "missing required key"},
    {9, SWARM "device_mix = ( { device = \"A100-80GB\"; } );", NULL, NULL,
     ":9: swarm.device_mix[0].fraction", "missing required key"},
    {9, SWARM "device_mix = ( { fraction = 1.0; } );", NULL, NULL, ":9: swarm.device_mix[0].device",
     "missing required key"},
    /* ---- syntax and literals ---- */
    {5, TRAIN "cycles = ; };", NULL, NULL, ":5:", "syntax error"},
    {5, TRAIN "cycles = 3000000000; };", NULL, NULL, ":5:", "beyond 32 bits"},
    /* ---- model ---- */
    {2,
     "model = { d_model = 64; n_blocks = 4; n_heads = 5; n_kv_heads = 1; ffn = 128; vocab = 256; "
     "};",
     NULL, NULL, ":2: model.n_heads", "does not divide model.d_model = 64"},
    {2,
     "model = { d_model = 64; n_blocks = 4; n_heads = 4; head_dim = 8; n_kv_heads = 2; ffn = 128; "
     "vocab = 256; };",
     NULL, NULL, ":2: model.head_dim", "must equal d_model = 64"},
    {2,
     "model = { d_model = 64; n_blocks = 4; n_heads = 4; n_kv_heads = 3; ffn = 128; vocab = 256; "
     "};",
     NULL, NULL, ":2: model.n_kv_heads", "does not divide model.n_heads = 4"},
    /* ---- pipeline and compression ---- */
    {3, "pipeline = { stages = 2; split = [1, 2]; };", NULL, NULL, ":3: pipeline.split",
     "sums to 3 blocks, model.n_blocks is 4"},
    {3, "pipeline = { stages = 2; split = [1, 1, 2]; };", NULL, NULL, ":3: pipeline.split",
     "3 entries for pipeline.stages = 2"},
    {3, "pipeline = { stages = 5; };", NULL, NULL, ":3: pipeline.stages",
     "every stage needs a block"},
    {3, "pipeline = { stages = 2; routing = \"swarm\"; };", NULL, NULL, "pipeline.swarm_ema",
     "required when pipeline.routing = \"swarm\""},
    {3, "pipeline = { stages = 2; swarm_ema = 0.5; };", NULL, NULL, ":3: pipeline.swarm_ema",
     "not used when"},
    {4, "compression = { method = \"resbm\"; ratio = 5; };", NULL, NULL, ":4: compression.ratio",
     "5 does not divide model.d_model = 64"},
    {4, "compression = { method = \"none\"; ratio = 4; };", NULL, NULL, ":4: compression.ratio",
     "only resbm and linear take a ratio"},
    {4, "compression = { method = \"linear\"; ratio = 4; hidden = 8; };", NULL, NULL,
     ":4: compression.hidden", "not used when"},
    {3, "pipeline = { stages = 1; };", NULL, NULL, ":4: compression.method",
     "single-stage pipeline"},
    {4, "compression = { method = \"resbm2\"; };", NULL, NULL, ":4: compression.method",
     "did you mean 'resbm'"},
    /* ---- training ---- */
    {5, TRAIN "cycles = 1; tokens = 1e6; };", NULL, NULL, ":5: training.cycles", "not both"},
    {5, TRAIN "};", NULL, NULL, ":5: training",
     "one of training.tokens and training.cycles is required"},
    {5, TRAIN "cycles = 1; data = \"no-such-corpus.bin\"; };", NULL, NULL, ":5: training.data",
     "cannot read"},
    {5, TRAIN "cycles = 1; optimizer = { beta1_span = 0.05; }; };", NULL, NULL,
     ":5: training.optimizer.beta1_span", "not used when beta1_rule = \"constant\""},
    {5,
     TRAIN
     "cycles = 1; optimizer = { beta1_rule = \"iota\"; beta1 = 0.95; beta1_span = 0.09; }; };",
     NULL, NULL, ":5: training.optimizer.beta1_span", "must stay below 1"},
    {5, TRAIN "cycles = 1; optimizer = { kind = \"adamw\"; momentum_decay = 0.004; }; };", NULL,
     NULL, ":5: training.optimizer.momentum_decay", "not used when kind = \"adamw\""},
    /* ---- sync ---- */
    {6, "sync = { owners = 3; };", NULL, NULL, ":6: sync.owners", "swarm.replicas = 2"},
    {6, "sync = { algorithm = \"ddp\"; };", NULL, NULL, ":6: sync.algorithm",
     "pipeline.stages = 1"},
    {6, "sync = { transport = \"storage\"; };", NULL, NULL, ":6: sync.transport", "not used when"},
    {6, "sync = { algorithm = \"ring\"; publish = \"update\"; };", NULL, NULL, ":6: sync.publish",
     "only its partition owners publish"},
    {6, "sync = { publish = \"delta\"; };", NULL, NULL, ":6: sync.publish",
     "is not one of weights|update"},
    {6, "sync = { overlap = true; };", NULL, NULL, ":6: sync.overlap",
     "not used when sync.algorithm is not \"ddp\""},
    {8, "};", NULL, NULL, "network.storage", "required when sync.algorithm = \"iota-butterfly\""},
    /* ---- network ---- */
    {7, NET "latency_ms = ( [1.0, 2.0] );", NULL, NULL, ":7: network.latency_ms",
     "1 rows for 2 regions"},
    {7, NET "latency_ms = ( [1.0, 2.0], [2.0] );", NULL, NULL, ":7: network.latency_ms[1]",
     "1 entries for 2 regions"},
    {7, "network = { regions = [\"a\", \"a\"]; latency_ms = ( [1.0, 2.0], [2.0, 1.0] );", NULL,
     NULL, ":7: network.regions[1]", "listed twice"},
    {8, "  storage = { region = \"z\"; up_mbps = 1000.0; down_mbps = 1000.0; }; };", NULL, NULL,
     ":8: network.storage.region", "region 'z' is not in network.regions"},
    {8, "  storage = { region = \"a\"; down_mbps = 1000.0; }; };", NULL, NULL,
     ":8: network.storage.up_mbps", "missing required key"},
    /* ---- swarm ---- */
    {9, "swarm = { replicas = 2; device = \"A100-80GB\"; region = \"c\";", NULL, NULL,
     ":9: swarm.region", "region 'c' is not in network.regions"},
    {9, "swarm = { replicas = 2; device = \"A100\"; region = \"a\";", NULL, NULL,
     ":9: swarm.device", "did you mean 'A100-80GB'"},
    {9, SWARM, NULL, NULL, ":9: swarm.device", "one of swarm.device, swarm.device_per_replica"},
    {9, SWARM "device = \"H200\"; device_mix = ( { device = \"B200\"; fraction = 1.0; } );", NULL,
     NULL, ":9: swarm.device_mix", "give only one of"},
    {9, SWARM "device_per_replica = [\"H200\", \"H200\", \"H200\"];", NULL, NULL,
     ":9: swarm.device_per_replica", "3 entries, swarm.replicas is 2"},
    {9, SWARM "device_per_peer = [\"H200\", \"H200\", \"H200\"];", NULL, NULL,
     ":9: swarm.device_per_peer", "swarm.replicas x pipeline.stages = 2 x 2 = 4 peers"},
    {9,
     SWARM "device_mix = ( { device = \"H200\"; fraction = 0.5; }, { device = \"B200\"; fraction = "
           "0.4; } );",
     NULL, NULL, ":9: swarm.device_mix", "fractions sum to 0.9"},
    {9,
     SWARM "device_mix = ( { device = \"H200\"; fraction = 0.99; }, { device = \"B200\"; fraction "
           "= 0.01; } );",
     NULL, NULL, ":9: swarm.device_mix[1].fraction", "rounds to no peer"},
    {9, "swarm = { replicas = 2; device = \"A100-80GB\"; region_per_peer = [\"a\"];", NULL, NULL,
     ":9: swarm.region_per_peer", "= 4 peers"},
    {11, "  bandwidth = { kind = \"fixed\"; up_mbps = 100.0; down_mbps = 200.0; sigma = 0.3; }; };",
     NULL, NULL, ":11: swarm.bandwidth.sigma", "not used when swarm.bandwidth.kind = \"fixed\""},
    {11, "  bandwidth = { kind = \"lognormal\"; up_mbps = 100.0; down_mbps = 200.0; }; };", NULL,
     NULL, ":11: swarm.bandwidth.sigma", "required when swarm.bandwidth.kind = \"lognormal\""},
    {11,
     "  bandwidth = { kind = \"list\"; up_list_mbps = [1.0, 2.0]; down_list_mbps = [1.0, 2.0, 3.0, "
     "4.0]; }; };",
     NULL, NULL, ":11: swarm.bandwidth.up_list_mbps", "2 entries"},
    {11,
     "  bandwidth = { kind = \"table\"; classes = ( { fraction = 0.5; up_mbps = 1.0; down_mbps = "
     "1.0; } ); }; };",
     NULL, NULL, ":11: swarm.bandwidth.classes", "fractions sum to 0.5"},
    {11,
     "  bandwidth = { kind = \"fixed\"; up_mbps = 100.0; down_mbps = 200.0; }; prices = ( { device "
     "= \"H100\"; per_hour = 2.0; } ); };",
     NULL, NULL, ":11: swarm.prices[0].device", "not in the device table"},
    {10, "  device_table = \"/no/such/devices.cfg\";", NULL, NULL, ":10: swarm.device_table",
     "cannot read"},
    /* ---- faults ---- */
    {0, NULL, "faults = { spot = { enabled = true; }; };\n", NULL,
     ":13: faults.spot.reclaim_interval_h", "required when faults.spot.enabled = true"},
    {0, NULL,
     "faults = { spot = { enabled = true; fraction = 0.1; reclaim_interval_h = 1.0; notice_s = "
     "1.0; restart_s = 1.0; }; };\n",
     NULL, ":13: faults.spot.fraction", "rounds to no spot peer"},
    {0, NULL, "faults = { churn = { enabled = true; mtbf_h = 1.0; }; };\n", NULL,
     ":13: faults.churn.mttr_h", "required when"},
    {0, NULL,
     "faults = { stragglers = { enabled = true; fraction = 0.5; multiplier = 0.5; permanent = "
     "true; slow_s = 1.0; }; };\n",
     NULL, ":13: faults.stragglers.slow_s", "not used when faults.stragglers.permanent = true"},
    {0, NULL, "faults = { stragglers = { enabled = true; fraction = 0.5; }; };\n", NULL,
     ":13: faults.stragglers.multiplier", "required when"},
    {0, NULL, "faults = { stragglers = { enabled = true; fraction = 0.5; multiplier = 1.0; }; };\n",
     NULL, ":13: faults.stragglers.multiplier", "out of range"},
    {0, NULL, "faults = { profiles = ( { peer = 9; kind = \"state\"; file = \"p.txt\"; } ); };\n",
     NULL, ":13: faults.profiles[0].peer", "the swarm has 4 peers (0..3)"},
    {0, NULL,
     "faults = { profiles = ( { peer = 1; kind = \"state\"; file = \"no-such-profile.txt\"; } ); "
     "};\n",
     NULL, ":13: faults.profiles[0].file", "cannot read"},
    {0, NULL, "faults = { profiles = ( { peer = 1; kind = \"load\"; file = \"p.txt\"; } ); };\n",
     NULL, ":13: faults.profiles[0].kind", "is not one of state|speed|bandwidth"},
    /* ---- compute, output, reference, name ---- */
    {12, "compute = { mode = \"modeled\"; };", NULL, NULL, ":12: compute.efficiency.forward",
     "required when compute.mode = \"modeled\" and no compute.kernel_profile"},
    {12, "compute = { " COMPUTE_EFF "local_device = \"GTX-480\"; };", NULL, NULL,
     ":12: compute.local_device", "not in the device table"},
    {12, "compute = { " COMPUTE_EFF "kernel_profile = \"no-such-profile.cfg\"; };", NULL, NULL,
     ":12: compute.kernel_profile", "cannot read"},
    {0, NULL, "output = { events = \"first\"; };\n", NULL, ":13: output.events_cycles",
     "required when output.events = \"first\""},
    {0, NULL, "output = { events_cycles = 2; };\n", NULL, ":13: output.events_cycles",
     "not used when"},
    {0, NULL, "output = { trace = \"\"; };\n", NULL, ":13: output.trace", "empty path"},
    {0, NULL, "output = { trace = \"/tmp/t.h5\"; };\n", NULL, ":13: output.trace",
     "'/tmp/t.h5' leaves the working directory (an absolute path)"},
    {0, NULL, "output = { trace = \"results/../../t.h5\"; };\n", NULL, ":13: output.trace",
     "leaves the working directory (a '..' component)"},
    {0, NULL, "reference = { mfu = 0.3; };\n", NULL, ":13: reference.source",
     "required when reference figures are given"},
    {0, NULL, "reference = { source = \"x\"; url = \"y\"; mfu = 30.8; };\n", NULL,
     ":13: reference.mfu", "out of range"},
    {1, "name = \"has space\";", NULL, NULL, ":1: name", "only letters, digits"},
    /* ---- --set ---- */
    {0, NULL, NULL, "training.Hx=1", "--set training.Hx=1: training.Hx",
     "unknown key (did you mean 'training.H'?)"},
    {0, NULL, NULL, "training.H=abc", "--set training.H=abc: training.H",
     "expected an integer, got 'abc'"},
    {0, NULL, NULL, "training.H=1.5", "--set training.H=1.5: training.H",
     "expected an integer, got a float"},
    {0, NULL, NULL, "pipeline.recompute=maybe",
     "--set pipeline.recompute=maybe: pipeline.recompute", "expected true or false"},
    {0, NULL, NULL, "pipeline.stages=0", "--set pipeline.stages=0: pipeline.stages",
     "out of range"},
    {0, NULL, NULL, "training..H=1", "--set training..H=1", "is not a key path"},
    {0, NULL, NULL, "training.H[x]=1", "--set training.H[x]=1", "is not a key path"},
    {0, NULL, NULL, "training.H", "--set training.H", "expected key.path=value"},
    {0, NULL, NULL, "training.H[0]=1", "--set training.H[0]=1: training.H[0]", "unknown key"},
    {0, NULL, NULL, "swarm.device_mix[0].fraction=1",
     "--set swarm.device_mix[0].fraction=1: swarm.device_mix", "not in the scenario"},
    {0, NULL, NULL, "network.regions[5]=x", "--set network.regions[5]=x: network.regions[5]",
     "the list has 2 elements, no [5]"},
    {0, NULL, NULL, "base=other.cfg", "--set base=other.cfg: base", "cannot be overridden"},
    {0, NULL, NULL, "output.trace=../t.h5", "--set output.trace=../t.h5: output.trace",
     "leaves the working directory"},
    {0, NULL, NULL, "pipeline.split=[1,", "--set pipeline.split=[1,: pipeline.split",
     "cannot parse value"},
    {0, NULL, NULL, "sync.algorithm=butterfly", "--set sync.algorithm=butterfly: sync.algorithm",
     "is not one of"},
    {0, NULL, NULL, "training.cycles=3000000000",
     "--set training.cycles=3000000000: training.cycles", "beyond 32 bits"},
    {0, NULL, NULL, "name.first=x", "--set name.first=x: name.first", "unknown key"},
    {0, NULL, NULL, "compression.ratio=3", "--set compression.ratio=3: compression.ratio",
     "does not divide"},
    {0, NULL, NULL, "swarm.device=A100", "--set swarm.device=A100: swarm.device",
     "did you mean 'A100-80GB'"},
};

START_TEST(bad_input) {
    const bad_case *c = &cases[_i];
    tu_write("p.txt", "0 1\n");
    const char *path = tu_mini("case.cfg", c->line, c->repl, c->append);
    const char *sets[1] = {c->set};
    tu_expect_error(path, c->set ? sets : NULL, c->set ? 1 : 0, c->n1, c->n2);
}
END_TEST

START_TEST(missing_file) {
    tu_expect_error("scenarios/no-such-scenario.cfg", NULL, 0, "no-such-scenario.cfg",
                    "cannot read");
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s", g_tmpdir);
    tu_expect_error(dir, NULL, 0, g_tmpdir, NULL); /* a directory is not a scenario */
}
END_TEST

START_TEST(base_files) {
    /* a variant whose base is missing, of the wrong type, or a cycle */
    tu_expect_error(tu_write("v_missing.cfg", "base = \"nope.cfg\";\nname = \"v\";\n"), NULL, 0,
                    "/v_missing.cfg:1: base", "cannot read");
    tu_expect_error(tu_write("v_type.cfg", "name = \"v\";\nbase = 5;\n"), NULL, 0,
                    "/v_type.cfg:2: base", "expected a file name");
    tu_write("cyc_a.cfg", "base = \"cyc_b.cfg\";\n");
    tu_expect_error(tu_write("cyc_b.cfg", "name = \"b\";\nbase = \"cyc_a.cfg\";\n"), NULL, 0,
                    "/cyc_a.cfg:1: base", "extends itself");
    tu_expect_error(tu_write("self.cfg", "base = \"self.cfg\";\n"), NULL, 0, "/self.cfg:1: base",
                    "extends itself");
    tu_mini("base_noname.cfg", 1, NULL, NULL);
    /* errors point into the file that holds the bad value */
    tu_mini("base_ok.cfg", 0, NULL, NULL);
    tu_expect_error(
        tu_write("v_bad.cfg", "base = \"base_ok.cfg\";\nname = \"v\";\ntraining = { H = 0; };\n"),
        NULL, 0, "/v_bad.cfg:3: training.H", "out of range");
    tu_expect_error(tu_write("v_noname.cfg", "base = \"base_noname.cfg\";\n"), NULL, 0,
                    "/v_noname.cfg: name", "missing required key");
    tu_mini("base_bad.cfg", 3, "pipeline = { stages = 2; colour = 1; };", NULL);
    tu_expect_error(tu_write("v_of_bad.cfg", "base = \"base_bad.cfg\";\nname = \"v\";\n"), NULL, 0,
                    "/base_bad.cfg:3: pipeline.colour", "unknown key");
    /* a good variant: override one key, switch an alternative, keep the rest */
    sim_scenario sc;
    tu_load_ok(tu_write("v_good.cfg", "base = \"base_ok.cfg\";\nname = \"v\";\n"
                                      "training = { tokens = 1e6; };\n"
                                      "swarm = { device_per_replica = [\"H200\", \"B200\"]; };\n"),
               NULL, 0, &sc);
    ck_assert_str_eq(sc.name, "v");
    ck_assert_double_eq(sc.training.tokens, 1e6);
    ck_assert_int_eq(sc.training.cycles, 0);
    ck_assert_int_eq(sc.training.H, 10);
    ck_assert_int_eq(sc.swarm.peers[3].device, sim_devices_find(&sc.devices, "B200"));
    ck_assert_int_eq(sc.n_sources, 2);
    sim_scenario_free(&sc);
}
END_TEST

START_TEST(profiles_ok_and_duplicate) {
    tu_write("prof.txt", "0 1\n10 0\n");
    sim_scenario sc;
    tu_load_ok(
        tu_mini(
            "prof_ok.cfg", 0, NULL,
            "faults = { profiles = ( { peer = 3; kind = \"state\"; file = \"prof.txt\"; } ); };\n"),
        NULL, 0, &sc);
    ck_assert_int_eq(sc.faults.n_profiles, 1);
    ck_assert_int_eq(sc.faults.profiles[0].peer, 3);
    ck_assert_int_eq(sc.faults.profiles[0].kind, SIM_PROFILE_STATE);
    ck_assert_ptr_nonnull(strstr(sc.faults.profiles[0].path, g_tmpdir)); /* relative to the file */
    sim_scenario_free(&sc);
    tu_expect_error(
        tu_mini("prof_dup.cfg", 0, NULL,
                "faults = { profiles = ( { peer = 3; kind = \"speed\"; file = \"prof.txt\"; },\n"
                "  { peer = 3; kind = \"speed\"; file = \"prof.txt\"; } ); };\n"),
        NULL, 0, ":14: faults.profiles[1].peer", "already has a profile of this kind");
}
END_TEST

START_TEST(bad_device_tables) {
    static const struct {
        const char *text, *n1, *n2;
    } t[] = {
        {"devices = ( { name = \"X\"; bf16_tfops = 1.0; } );\n", ":1: devices[0].bf16_tfops",
         "did you mean 'bf16_tflops'"},
        {"devices = ( { name = \"X\"; bf16_tflops = 1.0; memory_gb = 1.0; memory_bw_gbs = 1.0; "
         "source = \"s\"; },\n"
         "            { name = \"X\"; bf16_tflops = 1.0; memory_gb = 1.0; memory_bw_gbs = 1.0; "
         "source = \"s\"; } );\n",
         ":2: devices[1].name", "listed twice"},
        {"devices = ( { name = \"X\"; bf16_tflops = -1.0; memory_gb = 1.0; memory_bw_gbs = 1.0; "
         "source = \"s\"; } );\n",
         ":1: devices[0].bf16_tflops", "must be positive"},
        {"devices = ( { name = \"X\"; bf16_tflops = 1.0; memory_gb = 1.0; memory_bw_gbs = 1.0; "
         "source = \"s\";\n"
         "              price_per_hour = 1.0; } );\n",
         ":1: devices[0].price_source", "required with price_per_hour"},
        {"devices = ( { name = \"X\"; bf16_tflops = 1.0; memory_gb = 1.0; memory_bw_gbs = 1.0; } "
         ");\n",
         ":1: devices[0].source", "missing required key"},
        {"devices = ( { name = \"X\"; bf16_tflops = \"many\"; memory_gb = 1.0; memory_bw_gbs = "
         "1.0; source = \"s\"; } );\n",
         ":1: devices[0].bf16_tflops", "expected a number"},
        {"gpus = ();\n", ":1: gpus", "unknown key"},
        {"devices = ();\n", ":1: devices", "empty table"},
        {"devices = 3;\n", ":1: devices", "expected a list"},
        {"# nothing\n", "devices", "missing"},
        {"devices = ( 3 );\n", ":1: devices[0]", "expected a group"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "bad_devices_%zu.cfg", i);
        const char *dev = tu_write(name, t[i].text);
        sim_device_table tab;
        char err[1024] = "";
        ck_assert_int_eq(sim_devices_load(dev, &tab, err, sizeof err), EXIT_INPUT);
        ck_assert_msg(strstr(err, t[i].n1) && strstr(err, t[i].n2), "case %zu: '%s'", i, err);
        ck_assert_int_eq(tab.n, 0);
        /* through a scenario: the error is the table's own, with its file and line */
        char line[PATH_MAX + 64];
        snprintf(line, sizeof line, "  device_table = \"%s\";", dev);
        tu_expect_error(tu_mini("uses_bad_table.cfg", 10, line, NULL), NULL, 0, name, t[i].n2);
    }
}
END_TEST

static Suite *errors_suite(void) {
    Suite *s = suite_create("scenario errors");
    TCase *tc = tcase_create("bad input");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, bad_input, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, base_files);
    tcase_add_test(tc, profiles_ok_and_duplicate);
    tcase_add_test(tc, bad_device_tables);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = errors_suite, .setup = tu_setup, .teardown = tu_cleanup_dirs)
