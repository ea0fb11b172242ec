# SPDX-License-Identifier: GPL-2.0-or-later
# A thin wrapper over meson: `make demo` and `make check` are the quick start.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
# How many fuzz targets run at once under check-fuzz (default: the processors).
FUZZ_JOBS ?=
FUZZ_TARGETS = iana_csv services profile policy packet render listfile yamlruns
FUZZ_SEEDS_policy = policies/*.yaml examples/*.yaml tests/policies/bad/*.yaml
MESON_OPTS ?=
# --vgdb=no: no gdbserver files in /tmp, where one a killed run left (by
# process id) stops a later run of the same id under another user.
VALGRIND = valgrind --quiet --error-exitcode=99 --vgdb=no --leak-check=full \
	--errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible

.PHONY: all deps build demo check check-plain check-ansible check-asan check-valgrind check-fuzz check-sanitizers check-ansible-fuzz fuzz fuzz-build bench bench-deps \
	update-golden install clean

all: build

deps:
	@sh tools/bootstrap.sh

build: deps
	@if [ ! -f $(BUILD)/build.ninja ]; then meson setup $(BUILD) $(MESON_OPTS); \
	 elif [ -n "$(MESON_OPTS)" ]; then meson configure $(BUILD) $(MESON_OPTS); fi
	meson compile -C $(BUILD)

demo: build
	@echo '$$ portcullis check policies/kdc-primary.yaml'
	@./$(BUILD)/portcullis check policies/kdc-primary.yaml
	@echo
	@echo '$$ portcullis explain policies/kdc-primary.yaml'
	@./$(BUILD)/portcullis explain policies/kdc-primary.yaml 2>/dev/null
	@echo
	@echo "$$ portcullis explain policies/kdc-primary.yaml --packet 'tcp -> 192.0.2.11 754'"
	@./$(BUILD)/portcullis explain policies/kdc-primary.yaml --packet 'tcp -> 192.0.2.11 754' 2>/dev/null
	@echo
	@echo '$$ portcullis render policies/kdc-primary.yaml'
	@./$(BUILD)/portcullis render policies/kdc-primary.yaml 2>/dev/null
	@echo
	@echo '$$ portcullis lookup kerberos kpasswd kerberos-adm krb5_prop kerberos-iv iprop kdc'
	@./$(BUILD)/portcullis lookup kerberos kpasswd kerberos-adm krb5_prop kerberos-iv iprop kdc

# Rewrites the golden files of the CLI and render suites from the current
# build, for intentional changes: review `git diff tests/` before committing.
update-golden: build
	PC_UPDATE_GOLDEN=1 PC_SOURCE_ROOT=$(CURDIR) sh tests/cli/run-lookup.sh $(CURDIR)/$(BUILD)/portcullis $(CURDIR)/tests/cli
	PC_UPDATE_GOLDEN=1 PC_SOURCE_ROOT=$(CURDIR) sh tests/render/run-render.sh $(CURDIR)/$(BUILD)/portcullis $(CURDIR)/tests/render
	PC_UPDATE_GOLDEN=1 PC_SOURCE_ROOT=$(CURDIR) sh tests/compare/run-compare.sh $(CURDIR)/$(BUILD)/portcullis $(CURDIR)/tests/compare

# Every test: the suites as built, again under ASan+UBSan, again under valgrind,
# and a short fuzzing run of every parser when clang is there.
# After the plain run, two lines side by side: the sanitizer and valgrind
# runs, one after the other; and the Ansible test (sshd, ansible-playbook and
# traffic, three to five minutes, much of it waiting on its hosts), then the
# fuzzers one at a time, 10 s a target there unless FUZZ_SECONDS is given.
# The kernel CLI suite (netns-cli) runs in the ASan build there, not twice.
check: PLAIN_SKIP = --no-suite netns-cli
check: check-plain
	$(MAKE) --no-print-directory -j2 --output-sync=target check-sanitizers check-ansible-fuzz \
	  FUZZ_SECONDS=$(if $(filter command line,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),10)

check-sanitizers:
	$(MAKE) --no-print-directory check-asan
	$(MAKE) --no-print-directory check-valgrind

check-ansible-fuzz:
	$(MAKE) --no-print-directory check-ansible
	$(MAKE) --no-print-directory check-fuzz FUZZ_JOBS=1

check-plain: build
	meson test -C $(BUILD) --print-errorlogs --verbose --no-suite ansible $(PLAIN_SKIP)

# After check-plain, whose deb test leaves the package it installs on its hosts.
check-ansible: build
	meson test -C $(BUILD) --print-errorlogs --verbose --suite ansible

check-asan: deps
	@if [ ! -f $(ASAN_BUILD)/build.ninja ]; then meson setup $(ASAN_BUILD) $(MESON_OPTS) \
	   -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
	   -Dc_args=-fno-sanitize-recover=all; fi
	meson compile -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  meson test -C $(ASAN_BUILD) --print-errorlogs --no-suite deb --no-suite ansible --no-suite probe --no-suite env

check-valgrind: build
	PC_TEST_WRAPPER="$(VALGRIND)" meson test -C $(BUILD) --print-errorlogs --timeout-multiplier 4 \
	  --wrapper "$(VALGRIND)" --suite unit
	@d=$$(mktemp -d) && PC_TEST_WRAPPER="$(CURDIR)/tests/wrap-sample.sh $$d $(VALGRIND) --" \
	  meson test -C $(BUILD) --print-errorlogs --timeout-multiplier 4 --suite cli --no-suite netns-cli; \
	  rc=$$?; echo "check-valgrind: $$(cat $$d/wrapped 2>/dev/null | wc -l) of $$(cat $$d/shape.* 2>/dev/null | wc -l)" \
	    "commands under valgrind, $$(ls $$d | grep -c '^shape') shapes"; rm -rf $$d; exit $$rc
	meson test -C $(BUILD) --print-errorlogs --timeout-multiplier 4 --wrapper "$(VALGRIND)" --suite fuzz

# libFuzzer on every parser for FUZZ_SECONDS each (clang); the seeds are copied,
# the policy and render targets use the keywords of tests/fuzz/policy.dict,
# so the work corpus grows in $(FUZZ_BUILD)/corpus, and a crash stops the run
# with its input in $(FUZZ_BUILD)/artifacts.  Keep crashes as regression
# inputs in tests/fuzz/corpus/TARGET/.  tests/fuzz/TARGET.dict, when there is one, is
# its dictionary.
fuzz: $(addprefix fuzz-run-,$(FUZZ_TARGETS))

fuzz-build: deps
	@if [ ! -f $(FUZZ_BUILD)/build.ninja ]; then CC=clang meson setup $(FUZZ_BUILD) \
	   -Dfuzz=true -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
	   -Dc_args=-fno-sanitize-recover=all; fi
	meson compile -C $(FUZZ_BUILD)
	@mkdir -p $(FUZZ_BUILD)/artifacts

# One target's run; `make -jN fuzz` runs N at once, each printing its lines together.
fuzz-run-%: fuzz-build
	@t=$*; mkdir -p $(FUZZ_BUILD)/corpus/$$t && cp -n tests/fuzz/corpus/$$t/* tests/fuzz/campaign/$$t/* $(FUZZ_BUILD)/corpus/$$t/; \
	  dict=; test ! -f tests/fuzz/$$t.dict || dict=-dict=tests/fuzz/$$t.dict; \
	  case $$t in policy|render) cp -n $(FUZZ_SEEDS_policy) $(FUZZ_BUILD)/corpus/$$t/; \
	    dict=-dict=tests/fuzz/policy.dict;; \
	  yamlruns) cp -n $(FUZZ_SEEDS_policy) $(FUZZ_BUILD)/corpus/$$t/;; esac; \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
	  ./$(FUZZ_BUILD)/tests/fuzz_$$t $$dict -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -max_len=65536 -timeout=10 -rss_limit_mb=2048 -artifact_prefix=$(FUZZ_BUILD)/artifacts/ \
	    $(FUZZ_BUILD)/corpus/$$t 2>$(FUZZ_BUILD)/fuzz_$$t.log \
	    || { tail -40 $(FUZZ_BUILD)/fuzz_$$t.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' $(FUZZ_BUILD)/fuzz_$$t.log

check-fuzz:
	@if command -v clang >/dev/null 2>&1; then \
	   $(MAKE) --no-print-directory -j$(if $(FUZZ_JOBS),$(FUZZ_JOBS),$$(nproc)) --output-sync=target fuzz; \
	 else echo "check-fuzz: no clang here; the corpora were replayed by the suites"; fi

# The peers the render benchmark measures.  ferm's package would load its
# own firewall at install time: it is told not to, and no service may start.
bench-deps: deps
	@echo 'ferm ferm/enable boolean false' | debconf-set-selections 2>/dev/null || true
	@if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && \
	  chmod +x /usr/sbin/policy-rc.d && trap 'rm -f /usr/sbin/policy-rc.d' EXIT && \
	  PC_BOOTSTRAP_EXTRA="ferm python3-capirca time" sh tools/bootstrap.sh; \
	 else PC_BOOTSTRAP_EXTRA="ferm python3-capirca time" sh tools/bootstrap.sh; fi

bench: build bench-deps
	meson compile -C $(BUILD) pc-bench-spawn
	@sh bench/registry.sh $(BUILD)
	@python3 bench/render.py $(BUILD)
	@python3 bench/includes.py $(BUILD)
	@python3 bench/listfile.py $(BUILD)
	@python3 bench/contention.py $(BUILD)
	meson compile -C $(BUILD) pc-bench-dump
	@python3 bench/readback.py $(BUILD)
	meson compile -C $(BUILD) pc-bench-floor
	@python3 bench/apply.py $(BUILD)
	@python3 bench/memory.py $(BUILD)
	@python3 bench/targets.py $(BUILD)

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
