# SPDX-License-Identifier: GPL-2.0-or-later
# A thin wrapper over meson: `make demo` and `make check` are the quick start.
BUILD ?= build
ASAN_BUILD ?= build-asan
MESON_OPTS ?=
VALGRIND = valgrind --quiet --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible

.PHONY: all deps build demo check check-plain check-asan check-valgrind bench install clean

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
	@echo '$$ portcullis lookup kerberos kpasswd kerberos-adm krb5_prop kerberos-iv iprop kdc'
	@./$(BUILD)/portcullis lookup kerberos kpasswd kerberos-adm krb5_prop kerberos-iv iprop kdc

# Every test: the suites as built, again under ASan+UBSan, again under valgrind.
check: check-plain check-asan check-valgrind

check-plain: build
	meson test -C $(BUILD) --print-errorlogs --verbose

check-asan: deps
	@if [ ! -f $(ASAN_BUILD)/build.ninja ]; then meson setup $(ASAN_BUILD) $(MESON_OPTS) \
	   -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
	   -Dc_args=-fno-sanitize-recover=all; fi
	meson compile -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  meson test -C $(ASAN_BUILD) --print-errorlogs

check-valgrind: build
	PC_TEST_WRAPPER="$(VALGRIND)" meson test -C $(BUILD) --print-errorlogs \
	  --wrapper "$(VALGRIND)" --suite unit
	PC_TEST_WRAPPER="$(VALGRIND)" meson test -C $(BUILD) --print-errorlogs --suite cli

bench: build
	@sh bench/registry.sh $(BUILD)

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
