// SPDX-License-Identifier: GPL-2.0-or-later
/* The IANA CSV parser, then lookups on whatever registry it built. */
#include <stdint.h>

#include "portcullis/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_registry *reg = pc_registry_create();
	struct pc_diags d;

	pc_diags_init(&d);
	if (pc_registry_load_iana_mem(reg, "fuzz.csv", (const char *)data, size, &d) == 0) {
		static const char *const names[] = {"kerberos", "tell", "x11", "npp", "a"};
		const char *sug[3];
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			struct pc_resolution res;
			pc_resolution_init(&res);
			pc_registry_resolve(reg, names[i], &res);
			pc_resolution_finish(&res);
			pc_registry_suggest(reg, names[i], sug, 3);
		}
		pc_registry_port_findings(reg, 754, PC_PROTO_ANY, &d);
		pc_registry_port_findings(reg, 796, PC_PROTO_UDP, &d);
	}
	pc_diags_finish(&d);
	pc_registry_destroy(reg);
	return 0;
}
