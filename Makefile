# orionsim build.
#
#   make              build build/orionsim (+ the CUDA plugin when nvcc is found, + the MPI
#                     plugin of `sweep --mpi` when OpenMPI's mpicc is found)
#   make test         check the layers, build and run every Check test (tests/**/test_*.c)
#   make check-layers which folder may include which (tools/check-layers.sh)
#   make test-san     the same suite under AddressSanitizer + UBSan (build/san/)
#   make test-reliability  the bad-input reproducers of tests/reliability/ (exit codes)
#   make fuzz         libFuzzer targets (clang) for FUZZ_S seconds each (tests/fuzz/)
#   make valgrind     the CPU test suite under valgrind (CUDA=0)
#   make run          the main job: the Orion-100B replay, report and plots
#   make bench        every benchmark (bench-net, bench-kernels, ...)
#   make bundle       build/bundle/: orionsim with non-CUDA libraries linked statically,
#                     for GPU machines that lack Debian's HDF5/libconfig
#
# Knobs: CUDA=0 forces a CPU-only build (default: auto-detect nvcc); MPI=0 leaves the MPI
# plugin out (default: auto-detect mpicc); WERROR=1 turns
# warnings into errors (CI sets it); SAN=1 builds with sanitizers; BUILD=dir moves outputs.
#
# Every module is picked up by wildcard: a new .c file in netmodel/, kernels/ or sim/
# joins its library, a new tests/test_*.c becomes a test binary. No edits needed here.

BUILD   ?= build
CC      ?= gcc
NVCC    ?= $(shell command -v nvcc 2>/dev/null || (test -x /usr/local/cuda/bin/nvcc && echo /usr/local/cuda/bin/nvcc))
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
ifeq ($(origin CUDA),undefined)
  CUDA := $(if $(NVCC),1,0)
endif
CUDA_ARCH ?= -gencode arch=compute_90,code=sm_90
MPICC   ?= $(shell command -v mpicc 2>/dev/null)
ifeq ($(origin MPI),undefined)
  MPI := $(if $(MPICC),1,0)
endif

PKGS      := hdf5 libconfig zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) openblas 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) openblas 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

OPT      ?= -O2
CFLAGS   := -std=c11 $(OPT) -g -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -fopenmp -I. $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS   := $(PKG_LIBS) -fopenmp -ldl -lm $(EXTRA_LDLIBS)
ifeq ($(WERROR),1)
  CFLAGS += -Werror
endif
ifeq ($(SAN),1)
  CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDLIBS += -fsanitize=address,undefined
endif
CFLAGS += -DORIONSIM_HAVE_CUDA_BUILD=$(CUDA)
CFLAGS += -MMD -MP

NM_SRC  := $(wildcard netmodel/*.c)
K_SRC   := $(wildcard kernels/*.c)
SIM_SRC := $(filter-out sim/cli/main.c,$(wildcard sim/*/*.c))
# Tests mirror the tree (tests/netmodel/, tests/kernels/, tests/sim/<room>/); each
# test_*.c becomes build/tests/test_* (names are unique across the tree).
T_SRC   := $(shell find tests -name 'test_*.c' | sort)
CU_SRC  := $(wildcard kernels/cuda/*.cu)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
NM_OBJ  := $(call obj,$(NM_SRC))
K_OBJ   := $(call obj,$(K_SRC))
SIM_OBJ := $(call obj,$(SIM_SRC))
T_BIN   := $(patsubst %.c,$(BUILD)/tests/%,$(notdir $(T_SRC)))
T_HELP  := $(call obj,tests/check_main.c)

LIBNM  := $(BUILD)/libnetmodel.a
LIBK   := $(BUILD)/libkernels.a
LIBSIM := $(BUILD)/libsim.a
BIN    := $(BUILD)/orionsim
PLUGIN := $(BUILD)/liborionsim-cuda.so

MPI_PLUGIN := $(BUILD)/liborionsim-mpi.so
MPI_SRC    := $(wildcard sim/sweep/mpi/*.c)

ALL := $(BIN) $(T_BIN)
ifeq ($(CUDA),1)
  ALL += $(PLUGIN)
endif
ifeq ($(MPI),1)
  ALL += $(MPI_PLUGIN)
endif

.PHONY: all test check-layers test-san test-reliability fuzz fuzz-build valgrind run bench bench-net bench-kernels bench-orion bundle deps data clean \
        study-resbm
.DEFAULT_GOAL := all
# Keep intermediate objects (tests, benchmarks): `make bundle` links them again.
.SECONDARY:
all: $(ALL)

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(CHECK_CFLAGS) -c $< -o $@

$(LIBNM): $(NM_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(LIBK): $(K_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(LIBSIM): $(SIM_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

LIBS_ORDER := $(LIBSIM) $(LIBK) $(LIBNM)

$(BIN): $(BUILD)/obj/sim/cli/main.o $(LIBS_ORDER)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# One link rule per test: build/tests/test_x from tests/<folder>/test_x.c.
define test_rule
$(BUILD)/tests/$(basename $(notdir $(1))): $(call obj,$(1)) $(T_HELP) $(LIBS_ORDER)
	@mkdir -p $$(dir $$@)
	@$$(if $$(V),,echo "  LD      $$@")
	$$(Q)$$(CC) $$(CFLAGS) -o $$@ $$^ $$(CHECK_LIBS) $$(LDLIBS)
endef
$(foreach t,$(T_SRC),$(eval $(call test_rule,$(t))))

# CUDA plugin: opened at run time with dlopen, so build/orionsim runs without CUDA libraries.
NVCCFLAGS := -O3 -std=c++17 $(CUDA_ARCH) -Xcompiler -fPIC,-Wall,-Wextra -I. \
             -isystem $(CUDA_HOME)/include --expt-relaxed-constexpr
ifeq ($(WERROR),1)
  NVCCFLAGS += -Werror all-warnings -Xcompiler -Werror
endif
CU_OBJ := $(patsubst %.cu,$(BUILD)/obj/%.o,$(CU_SRC))
$(BUILD)/obj/%.o: %.cu
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  NVCC    $<")
	$(Q)$(NVCC) $(NVCCFLAGS) -MMD -MP -c $< -o $@
$(PLUGIN): $(CU_OBJ)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(NVCC) -shared $(CUDA_ARCH) -o $@ $^ -L$(CUDA_HOME)/lib64 -lcublas -lcublasLt -lcudart

# MPI plugin of `orionsim sweep --mpi` (sim/sweep/sweep_mpi.h): the only code built with
# mpicc, opened with dlopen, so build/orionsim never links libmpi. The loader learns
# whether it exists from ORIONSIM_HAVE_MPI_BUILD; the stamp rebuilds it when MPI changes.
MPI_STAMP := $(BUILD)/.mpi-$(MPI)
$(MPI_STAMP):
	@mkdir -p $(BUILD) && rm -f $(BUILD)/.mpi-* && touch $@
$(BUILD)/obj/sim/sweep/sweep_mpi_load.o: CFLAGS += -DORIONSIM_HAVE_MPI_BUILD=$(MPI)
$(BUILD)/obj/sim/sweep/sweep_mpi_load.o: $(MPI_STAMP)
$(MPI_PLUGIN): $(MPI_SRC) sim/sweep/sweep_mpi.h sim/sweep/sweep_pool.h
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  MPICC   $@")
	$(Q)$(MPICC) -std=c11 $(OPT) -g -Wall -Wextra -Wshadow -Wstrict-prototypes \
	  -Wmissing-prototypes -D_POSIX_C_SOURCE=200809L $(if $(filter 1,$(WERROR)),-Werror) -I. \
	  -fPIC -shared -o $@ $(MPI_SRC)

# ---- tests -------------------------------------------------------------------------
deps:
	@sh tools/install-deps.sh

TEST_ENV := ORIONSIM_PLUGIN_DIR=$(abspath $(BUILD))
test: deps check-layers
	@$(MAKE) --no-print-directory all
	@sh tools/run-tests.sh "$(TEST_ENV)" $(T_BIN)
	@sh tests/reliability/run.sh $(BIN) >$(BUILD)/reliability.log 2>&1 || { cat $(BUILD)/reliability.log; exit 1; }; tail -1 $(BUILD)/reliability.log
	@sh tests/reliability/kill.sh $(BIN) 4 >$(BUILD)/kill.log 2>&1 || { cat $(BUILD)/kill.log; exit 1; }; tail -1 $(BUILD)/kill.log
	@ORIONSIM=$(BIN) CI_DIR=$(BUILD)/ci sh tools/ci-sweep.sh
	@if [ -f tools/ci-resbm.sh ]; then ORIONSIM=$(BIN) CI_DIR=$(BUILD)/ci-resbm sh tools/ci-resbm.sh; fi

# The dependency rules of the tree (tools/check-layers.sh): which folder may include which.
check-layers:
	@sh tools/check-layers.sh

test-san: deps
	@$(MAKE) --no-print-directory BUILD=build/san SAN=1 CUDA=0 OPT=-O1 all
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  CK_FORK=no sh tools/run-tests.sh "ORIONSIM_SANITIZE=1" $(patsubst $(BUILD)/%,build/san/%,$(T_BIN))
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  sh tests/reliability/run.sh build/san/orionsim >build/san/reliability.log 2>&1 || { cat build/san/reliability.log; exit 1; }; \
	  tail -1 build/san/reliability.log

# Every reproducer of tests/reliability/expected.txt (bad input: exit 2 within seconds).
test-reliability: $(BIN)
	@sh tests/reliability/run.sh $(BIN)

valgrind: deps
	@$(MAKE) --no-print-directory BUILD=build/vg CUDA=0 all
	@CK_FORK=no ORIONSIM_VALGRIND=1 sh tools/run-tests.sh "VALGRIND=1" $(patsubst $(BUILD)/%,build/vg/%,$(T_BIN))

# ---- fuzzing --------------------------------------------------------------------------
# libFuzzer targets (tests/fuzz/fuzz_*.c) built with clang under ASan + UBSan in build/fuzz/;
# `make fuzz` runs each for FUZZ_S seconds from its seed corpus (tests/fuzz/corpus/<name>/),
# new inputs going to build/fuzz/corpus-<name>/. A finding stops the run: its input is
# written to build/fuzz/ (crash-*, timeout-*, leak-*); keep it under tests/reliability/.
# Leaks: libFuzzer's per-input leak check is off in the timed run (libconfig and libhdf5
# leak on their error paths, suppressed, but each such input costs a full LSan scan: 3x
# slower); a second pass runs every corpus input once with the leak check on.
# `make fuzz FUZZ_TARGETS="scenario flows" FUZZ_S=900` runs a subset.
FUZZ_S       ?= 60
FUZZ_CC      ?= clang
FUZZ_TARGETS ?= scenario flows trace sweep
FUZZ_SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_BIN     := $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_TARGETS))
FUZZ_LIBS    := build/fuzz/libsim.a build/fuzz/libkernels.a build/fuzz/libnetmodel.a

fuzz-build:
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=$(FUZZ_CC) CUDA=0 WERROR=0 OPT=-O1 \
	  EXTRA_CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" $(FUZZ_LIBS)
	@for t in $(FUZZ_TARGETS); do \
	  echo "  LD      build/fuzz/fuzz_$$t"; \
	  $(FUZZ_CC) -std=c11 -O1 -g -I. $(PKG_CFLAGS) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	    $(FUZZ_SAN) -fsanitize=fuzzer tests/fuzz/fuzz_$$t.c $(FUZZ_LIBS) $(LDLIBS) \
	    -o build/fuzz/fuzz_$$t || exit 1; done

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus-$$t; \
	  echo "fuzz: $$t for $(FUZZ_S) s"; \
	  ( cd build/fuzz && export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ORIONSIM_FUZZ_ROOT=$(CURDIR) && \
	    ./fuzz_$$t -max_total_time=$(FUZZ_S) -timeout=20 -rss_limit_mb=2560 -max_len=65536 \
	      -detect_leaks=0 -print_final_stats=1 corpus-$$t $(CURDIR)/tests/fuzz/corpus/$$t \
	      >fuzz-$$t.log 2>&1 && \
	    ./fuzz_$$t -runs=0 -detect_leaks=1 -timeout=20 -rss_limit_mb=2560 -max_len=65536 \
	      corpus-$$t $(CURDIR)/tests/fuzz/corpus/$$t >fuzz-$$t-leaks.log 2>&1 || \
	    { tail -60 fuzz-$$t-leaks.log; exit 1; } ) || { tail -60 build/fuzz/fuzz-$$t.log; exit 1; }; \
	  grep -E "^stat::number_of_executed_units|^stat::average_exec_per_sec|^stat::new_units_added" \
	    build/fuzz/fuzz-$$t.log | tr '\n' ' '; echo "(leak pass over the corpus: clean)"; done

# ---- benchmarks ----------------------------------------------------------------------
BENCH_SRC := $(wildcard tools/bench_*.c)
BENCH_BIN := $(patsubst tools/%.c,$(BUILD)/%,$(BENCH_SRC))
# tools/kbench_*.c: parts of the benchmarks (bench_kernels' per-op breakdown), linked into each.
BENCH_HELP := $(call obj,$(wildcard tools/kbench_*.c))
$(BUILD)/bench_%: $(BUILD)/obj/tools/bench_%.o $(BENCH_HELP) $(LIBS_ORDER)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# SimGrid reference of the flows comparison (tools/simgrid_flows.cpp), when libsimgrid-dev is
# installed; tools/bench-flows.sh says so and skips it otherwise.
SIMGRID := $(shell pkg-config --exists simgrid 2>/dev/null && echo 1)
$(BUILD)/simgrid_flows: tools/simgrid_flows.cpp
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CXX     $@")
	$(Q)$(CXX) -std=c++17 -O2 -g -Wall -Wextra $(shell pkg-config --cflags simgrid 2>/dev/null) \
	  -o $@ $< $(shell pkg-config --libs simgrid 2>/dev/null)

bench-net: $(BUILD)/bench_net $(BUILD)/bench_flows $(BIN) $(if $(SIMGRID),$(BUILD)/simgrid_flows)
	$(BUILD)/bench_net
	sh tools/bench-flows.sh $(BUILD)
bench-kernels: $(BUILD)/bench_kernels all
	$(BUILD)/bench_kernels
bench-orion: $(BIN)
	sh tools/bench-orion.sh $(BIN)
bench: bench-net bench-kernels bench-orion

# ---- the main job --------------------------------------------------------------------
# The main job: the Orion replays (literal and fitted), their reports, and their figures
# beside the INTELLECT-1 and Covenant-72B scenarios (results/orion-100b/).
run: deps
	@$(MAKE) --no-print-directory all
	@echo "== the literal replay: published set-up + IOTA's code defaults (stops at its 240-h limit: README)"
	$(BIN) run scenarios/orion-100b.cfg -o results/orion-100b.h5
	$(BIN) report results/orion-100b.h5
	@echo "== the fitted replay: the unpublished keys orionsim fit found (scenarios/orion-100b-fit.cfg)"
	$(BIN) run scenarios/orion-100b-fit.cfg -o results/orion-100b-fit.h5
	$(BIN) report results/orion-100b-fit.h5
	$(BIN) run scenarios/intellect-1.cfg -q -o results/intellect-1.h5
	$(BIN) run scenarios/covenant-72b.cfg -q -o results/covenant-72b.h5
	$(BIN) plot results/orion-100b.h5 results/orion-100b-fit.h5 results/intellect-1.h5 \
	  results/covenant-72b.h5 -o results/orion-100b
	@echo "figures: results/orion-100b/ (PNG and SVG); traces: results/orion-100b.h5, results/orion-100b-fit.h5"

# ---- bundle for GPU machines ---------------------------------------------------------
# Everything but glibc and the CUDA libraries linked statically, so the binaries run on a
# machine without Debian's HDF5, libconfig, OpenBLAS or Check. The CUDA plugin links
# cudart/cuBLAS dynamically from the GPU machine's toolkit.
BUNDLE_LIBS := -static-libgcc -Wl,-Bstatic -lhdf5 -lconfig -lopenblas -lgfortran -lquadmath \
               -lcheck -lsubunit -lsz -laec -lz -lgomp -Wl,-Bdynamic -ldl -lm -lpthread -lrt
BUNDLE_LDFLAGS := -L/usr/lib/x86_64-linux-gnu/hdf5/serial -L/usr/lib/x86_64-linux-gnu/openblas-pthread
bundle:
	@$(MAKE) --no-print-directory BUILD=build/bundle-obj all
	@mkdir -p build/bundle/tests build/bundle/scenarios
	$(CC) -o build/bundle/orionsim build/bundle-obj/obj/sim/cli/main.o build/bundle-obj/libsim.a \
	  build/bundle-obj/libkernels.a build/bundle-obj/libnetmodel.a $(BUNDLE_LDFLAGS) $(BUNDLE_LIBS)
	for s in $(T_SRC); do t=$$(basename $$s .c); \
	  $(CC) -o build/bundle/tests/$$t build/bundle-obj/obj/$${s%.c}.o $(patsubst $(BUILD)/%,build/bundle-obj/%,$(T_HELP)) \
	    build/bundle-obj/libsim.a build/bundle-obj/libkernels.a build/bundle-obj/libnetmodel.a \
	    $(BUNDLE_LDFLAGS) $(BUNDLE_LIBS) || exit 1; done
	for b in $(notdir $(BENCH_BIN)); do \
	  $(MAKE) --no-print-directory BUILD=build/bundle-obj build/bundle-obj/$$b >/dev/null && \
	  $(CC) -o build/bundle/$$b build/bundle-obj/obj/tools/$$b.o \
	    $(patsubst $(BUILD)/%,build/bundle-obj/%,$(BENCH_HELP)) build/bundle-obj/libsim.a \
	    build/bundle-obj/libkernels.a build/bundle-obj/libnetmodel.a $(BUNDLE_LDFLAGS) $(BUNDLE_LIBS) || exit 1; done
	if [ -f build/bundle-obj/liborionsim-cuda.so ]; then cp build/bundle-obj/liborionsim-cuda.so build/bundle/; fi
	cp scenarios/*.cfg build/bundle/scenarios/ 2>/dev/null || true
	@echo "bundle: build/bundle/ (carry it to the GPU machine; run tools/gpu-run.sh there)"

# Live-training data: the Brown corpus as byte-token shards (data/brown_{train,val}.bin).
data: deps $(BIN)
	sh tools/fetch-brown.sh data

# The ResBM loss study (results/README.md "ResBM study"): widths 128, 256, 512 x the
# uncompressed run and ResBM at k = 64, 8, 2 x 5 seeds, 4 cycles each; resumes when
# interrupted. One thread per run; STUDY_JOBS runs at a time (default: the cores).
STUDY_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
study-resbm: data
	OPENBLAS_NUM_THREADS=1 $(BIN) study scenarios/resbm-cpu-base.cfg --seeds 5 \
	    --widths 128,256,512 --boundaries none,resbm:k64,resbm:k8,resbm:k2 \
	    --set training.cycles=4 -j$(STUDY_JOBS) -o results/study/resbm-study.h5
	$(BIN) plot results/study/resbm-study.h5 -o results/study

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
