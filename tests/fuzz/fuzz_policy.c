// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Policies: YAML, the schema, resolution against the embedded registry, and
 * the printing of every diagnostic with its source line and caret; a policy
 * that resolves is compared with itself, which must change no verdict.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "portcullis/compare.h"
#include "portcullis/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	struct pc_registry *reg = pc_registry_create();
	struct pc_policy p;
	struct pc_diags d;

	if (!sink)
		sink = fopen("/dev/null", "w");
	pc_diags_init(&d);
	pc_policy_init(&p);
	/* The label has no directory: includes resolve in the current one. */
	if (pc_policy_load_mem(&p, "fuzz.yaml", (const char *)data, size, &d) == 0 &&
			pc_policy_resolve(&p, reg, &d) == 0) {
		struct pc_packet pkt = {.direction = PC_DIR_INPUT,
				.proto = PC_PROTO_TCP,
				.family = 4,
				.has_src = true,
				.src = {192, 0, 2, 11},
				.port = 754};
		struct pc_decision dec;
		struct pc_compare c;
		pc_policy_evaluate(&p, &pkt, &dec);
		pc_compare_policies(&p, &p, &c);
		if (c.nregions)
			abort();
		pc_compare_finish(&c);
	}
	if (sink)
		pc_policy_print_diags(&p, &d, sink);
	pc_policy_finish(&p);
	pc_diags_finish(&d);
	pc_registry_destroy(reg);
	return 0;
}
