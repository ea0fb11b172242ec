// SPDX-License-Identifier: GPL-2.0-or-later
/* services(5) files as a system layer, then lookups across the layers. */
#include <stdint.h>

#include "portcullis/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_registry *reg = pc_registry_create();
	struct pc_diags d;

	pc_diags_init(&d);
	if (pc_registry_load_services_mem(reg, "fuzz", (const char *)data, size, &d) == 0) {
		/* No suggestions here: they walk the whole embedded IANA layer. */
		static const char *const names[] = {
				"krb5_prop", "kerberos", "kerberos-adm", "kdc", "ssh", "x"};
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			struct pc_resolution res;
			pc_resolution_init(&res);
			pc_registry_resolve(reg, names[i], &res);
			pc_resolution_finish(&res);
		}
		pc_registry_port_findings(reg, 88, PC_PROTO_ANY, &d);
	}
	pc_diags_finish(&d);
	pc_registry_destroy(reg);
	return 0;
}
