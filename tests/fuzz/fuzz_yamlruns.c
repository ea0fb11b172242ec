// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The YAML reader's runs: any text read with them (every list of addresses
 * one) and without gives the same tree and the same diagnostics.
 */
#include "../unit/yamlsame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	yaml_same((const char *)data, size, 1);
	return 0;
}
