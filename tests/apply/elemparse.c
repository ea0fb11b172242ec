// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * elemparse TABLE: the elements of every set of table inet TABLE read back
 * twice through src/apply/dump.c, once parsed by libnftnl (pc_dump_ops.elems)
 * and once straight off the messages (pc_dump_ops.elem), each element
 * written as one line of every attribute either reads (key, key end, flags,
 * verdict, chain, data, user data, timeout, expiration).  Prints the kinds
 * of elements seen and exits 0 when both readings are the same lines in the
 * same order, 1 (printing the first difference) when not.  A test tool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "apply/dump.h"

struct text {
	char *data;
	size_t len;
	FILE *f;
	const char *set; /* the raw reading: the set of the elements that follow */
};

struct kinds {
	unsigned long elems, ends, key_ends, verdicts, chains, data, udata, timeouts;
};

static struct kinds seen;
static char **names;
static size_t nnames;

static void hex(FILE *f, const char *what, const void *p, uint32_t len)
{
	const unsigned char *b = p;

	fprintf(f, " %s=", what);
	for (uint32_t i = 0; p && i < len; i++)
		fprintf(f, "%02x", b[i]);
}

/* One element as a line; the same function for both readings. */
static void line(FILE *f, const char *set, const struct pc_dump_elem *e)
{
	fprintf(f, "%s", set);
	hex(f, "key", e->key, e->key_len);
	if (e->key_end)
		hex(f, "key_end", e->key_end, e->key_end_len);
	if (e->has_flags)
		fprintf(f, " flags=%u", e->flags);
	if (e->has_verdict)
		fprintf(f, " verdict=%d", e->verdict);
	if (e->chain)
		fprintf(f, " chain=%s", e->chain);
	if (e->data)
		hex(f, "data", e->data, e->data_len);
	if (e->udata)
		hex(f, "udata", e->udata, e->udata_len);
	if (e->has_timeout)
		fprintf(f, " timeout=%llu", (unsigned long long)e->timeout);
	if (e->has_expiration)
		fprintf(f, " expiration=set");
	fputc('\n', f);
	seen.elems++;
	seen.ends += e->has_flags && (e->flags & NFT_SET_ELEM_INTERVAL_END);
	seen.key_ends += e->key_end != NULL;
	seen.verdicts += e->has_verdict;
	seen.chains += e->chain != NULL;
	seen.data += e->data != NULL;
	seen.udata += e->udata != NULL;
	seen.timeouts += e->has_timeout;
}

static bool lib_elems(void *arg, struct nftnl_set *s)
{
	struct text *t = arg;
	const char *set = nftnl_set_get_str(s, NFTNL_SET_NAME);
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	struct nftnl_set_elem *x;

	while (it && (x = nftnl_set_elems_iter_next(it))) {
		struct pc_dump_elem e;
		pc_dump_elem_from_nftnl(x, &e);
		line(t->f, set, &e);
	}
	if (it)
		nftnl_set_elems_iter_destroy(it);
	return false;
}

static void raw_set(void *arg, const char *set)
{
	struct text *t = arg;

	free((char *)t->set);
	t->set = strdup(set);
}

static void raw_elem(void *arg, const struct pc_dump_elem *e)
{
	struct text *t = arg;

	line(t->f, t->set ? t->set : "?", e);
}

static bool name_set(void *arg, struct nftnl_set *s)
{
	(void)arg;
	names = realloc(names, (nnames + 1) * sizeof(*names));
	if (!names)
		exit(2);
	names[nnames++] = strdup(nftnl_set_get_str(s, NFTNL_SET_NAME));
	return false;
}

/* The elements of every set of `table` as lines, one reading; 0 or -1. */
static int reading(struct pc_dumper *d, const char *table, bool raw, struct text *t)
{
	struct pc_dump_ops ops = {0};
	int ret = 0;

	memset(t, 0, sizeof(*t));
	t->f = open_memstream(&t->data, &t->len);
	if (raw) {
		ops.elem_set = raw_set;
		ops.elem = raw_elem;
	} else {
		ops.elems = lib_elems;
	}
	for (size_t i = 0; ret == 0 && i < nnames; i++)
		ret = pc_dump_list(d, NFT_MSG_GETSETELEM, NFPROTO_INET, table, names[i], &ops, t);
	fclose(t->f);
	free((char *)t->set);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct pc_dump_ops sets = {.set = name_set};
	const char *table = argc > 1 ? argv[1] : "portcullis";
	struct pc_dumper d;
	struct text lib, raw;
	int ret = 1;

	if (pc_dump_open(&d) < 0 ||
			pc_dump_list(&d, NFT_MSG_GETSET, NFPROTO_INET, table, NULL, &sets, NULL) <
					0 ||
			reading(&d, table, false, &lib) < 0) {
		perror("elemparse");
		return 2;
	}
	struct kinds once = seen;
	if (reading(&d, table, true, &raw) < 0) {
		perror("elemparse");
		return 2;
	}
	pc_dump_close(&d, 0, 0);
	if (lib.len == raw.len && memcmp(lib.data, raw.data, lib.len) == 0) {
		ret = 0;
	} else {
		size_t i = 0;
		while (i < lib.len && i < raw.len && lib.data[i] == raw.data[i])
			i++;
		while (i > 0 && lib.data[i - 1] != '\n')
			i--;
		printf("differ at byte %zu:\nlibnftnl: %.200s\nraw:      %.200s\n", i, lib.data + i,
				raw.data + i);
	}
	printf("%zu sets, %lu elements: %lu interval ends, %lu key ends, %lu verdicts, %lu "
	       "chains, %lu data, %lu user data, %lu timeouts%s\n",
			nnames, once.elems, once.ends, once.key_ends, once.verdicts, once.chains,
			once.data, once.udata, once.timeouts, ret ? "" : ": the same");
	if (seen.elems != 2 * once.elems)
		ret = 1;
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	free(lib.data);
	free(raw.data);
	return ret;
}
