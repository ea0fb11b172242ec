/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The embedded layers' tables are about 2 MB of the binary's read-only
 * data, of which a command reads a few pages.  Linux counts in a process's
 * RSS every page its page tables map, and a read fault maps more than the
 * page read: the pages around it (fault-around, 64 KiB) and, where the page
 * cache holds the file in large folios (how large depends on how the file
 * was written or read, not on us), the whole folio the page is in, as far
 * as the mapping (VMA) reaches.  One lookup could so add up to a megabyte.
 * Cutting the tables' mapping into small VMAs bounds what one fault maps to
 * the VMA it falls in.  The VMAs are made by marking every other chunk not
 * to be dumped (MADV_DONTDUMP: its flag differs from its neighbours', so
 * the kernel cannot merge them back; a core dump loses nothing, the data is
 * in the binary).  Nothing is read or written; a kernel that refuses leaves
 * the mapping as it was.
 */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "layer.h"

/* Pages a VMA holds: what one read fault may map at most. */
#define SPARSE_CHUNK_PAGES 4

static void extend(uintptr_t *lo, uintptr_t *hi, const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;

	if (!p || !n)
		return;
	if (a < *lo)
		*lo = a;
	if (a + n > *hi)
		*hi = a + n;
}

void pc_registry_map_sparse(void)
{
	const struct pc_layer *layers[] = {&pc_embedded_iana, &pc_embedded_practice};
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0)
		return;
	for (size_t i = 0; i < PC_ARRAY_SIZE(layers); i++) {
		const struct pc_layer *l = layers[i];

		extend(&lo, &hi, l->strtab, l->strtab_len + 1);
		extend(&lo, &hi, l->entries, l->nentries * sizeof(*l->entries));
		extend(&lo, &hi, l->names, l->nnames * sizeof(*l->names));
		extend(&lo, &hi, l->slots, l->nslots * sizeof(*l->slots));
		extend(&lo, &hi, l->ports, l->nports * sizeof(*l->ports));
		extend(&lo, &hi, l->ranges, l->nranges * sizeof(*l->ranges));
		extend(&lo, &hi, l->port_keys, l->nports * sizeof(*l->port_keys));
		extend(&lo, &hi, l->range_keys, l->nranges * sizeof(*l->range_keys));
		extend(&lo, &hi, l->reach, l->nranges * sizeof(*l->reach));
	}
	/* Only whole pages of the tables: the pages at either end are shared. */
	size_t chunk = (size_t)page * SPARSE_CHUNK_PAGES;
	uintptr_t start = (lo + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
	uintptr_t end = hi & ~((uintptr_t)page - 1);

	for (uintptr_t p = start; hi > lo && p + chunk <= end; p += 2 * chunk)
		if (madvise((void *)p, chunk, MADV_DONTDUMP) != 0)
			return;
}
