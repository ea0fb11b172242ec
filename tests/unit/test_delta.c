/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Delta apply's record and plan without a kernel: a set's elements kept as
 * records, written and read back (runs of records copied whole, an element
 * of its own attributes among them, keys read where the model keeps them),
 * and the elements two records differ by (the common start and end skipped
 * a block of records at a time), records and keys compared either way.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <unistd.h>

#include "portcullis/delta.h"

#define VERSION "test"

/* Bytes appended to the state's; their span. */
static struct pc_dl_span add_bytes(struct pc_dl_state *s, const void *p, size_t len)
{
	if (s->cap - s->len < len) {
		s->cap = 2 * (s->len + len);
		s->bytes = xrealloc(s->bytes, s->cap);
	}
	memcpy(s->bytes + s->len, p, len);
	struct pc_dl_span sp = {(uint32_t)s->len, (uint32_t)len};
	s->len += len;
	return sp;
}

/* The 4-byte key of element i: 10.x.y.z, big-endian. */
static void key_of(uint32_t v, uint8_t out[4])
{
	uint32_t be = htonl(0x0a000000u + v);
	memcpy(out, &be, 4);
}

/* Where a state made of keys keeps them (as the model would): the caller frees it. */
static uint8_t *kept;

/*
 * A state of table "t" with one set "s" of n IPv4 keys, keys[i] each
 * (records: START and the key); with `as_keys`, the keys read where they
 * are kept, as a state made from the model reads them (24 bytes apart,
 * at an odd offset, other bytes between them).
 */
static void make_state_as(struct pc_dl_state *s, const uint32_t *keys, size_t n, bool as_keys)
{
	pc_dl_state_init(s);
	snprintf(s->table, sizeof(s->table), "t");
	snprintf(s->comment, sizeof(s->comment), "portcullis test");
	s->sets = xcalloc(1, sizeof(*s->sets));
	s->nsets = s->setcap = 1;
	struct pc_dl_set *x = &s->sets[0];
	snprintf(x->name, sizeof(x->name), "s");
	/* The declaration: NFTA_SET_KEY_LEN 4, as the batch writes it. */
	uint8_t decl[8];
	struct nlattr a = {8, NFTA_SET_KEY_LEN};
	uint32_t four = htonl(4);
	memcpy(decl, &a, 4);
	memcpy(decl + 4, &four, 4);
	x->decl = add_bytes(s, decl, sizeof(decl));
	x->klen = 4;
	x->n = x->cap = n;
	if (as_keys && n) {
		kept = xmalloc(24 * n + 3);
		memset(kept, 0xa5, 24 * n + 3);
		x->keys = kept + 3;
		x->kstride = 24;
		for (size_t i = 0; i < n; i++)
			key_of(keys[i], kept + 3 + 24 * i);
		return;
	}
	x->recs = xmalloc(n ? 5 * n : 1);
	for (size_t i = 0; i < n; i++) {
		x->recs[5 * i] = 1; /* START */
		key_of(keys[i], x->recs + 5 * i + 1);
	}
}

static void make_state(struct pc_dl_state *s, const uint32_t *keys, size_t n)
{
	make_state_as(s, keys, n, false);
}

static uint32_t *range(size_t n)
{
	uint32_t *v = xmalloc((n ? n : 1) * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = (uint32_t)(2 * i);
	return v;
}

/*
 * How the states of plan_of() keep their elements: as records both, or
 * the new one (as apply makes it from the model), the old one or both as
 * keys.
 */
static int form;

/* The plan from keys a (na) to keys b (nb): the indices it adds and deletes. */
static void plan_of(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, size_t *nadd,
		size_t *add0, size_t *ndel, size_t *del0)
{
	struct pc_dl_state o, n;
	struct pc_dl_plan p;
	uint8_t *ko, *kn;

	kept = NULL;
	make_state_as(&o, a, na, form & 2);
	ko = kept;
	kept = NULL;
	make_state_as(&n, b, nb, form & 1);
	kn = kept;
	pc_dl_plan(&o, &n, &p);
	/* Each change is of the elements that differ, as the other forms find them. */
	for (size_t i = 0; i < p.elems_added; i++)
		assert_true(p.adds[i] < nb);
	for (size_t i = 0; i < p.elems_deleted; i++)
		assert_true(p.dels[i] < na);
	*nadd = p.elems_added;
	*ndel = p.elems_deleted;
	*add0 = p.elems_added ? p.adds[0] : (size_t)-1;
	*del0 = p.elems_deleted ? p.dels[0] : (size_t)-1;
	pc_dl_plan_finish(&p);
	pc_dl_state_finish(&o);
	pc_dl_state_finish(&n);
	free(ko);
	free(kn);
}

/* One key changed, added or taken away, anywhere, against blocks of 4096 records. */
static void test_plan_edges(void **state)
{
	form = *(const int *)*state;
	const size_t n = 10000;
	uint32_t *a = range(n), *b = range(n + 1);
	size_t nadd, add0, ndel, del0;

	plan_of(a, n, a, n, &nadd, &add0, &ndel, &del0);
	assert_int_equal(nadd + ndel, 0);
	/* One key changed: at the start, at a block's edges, in the middle, at the end. */
	const size_t at[] = {0, 1, 4095, 4096, 4097, 5000, 8191, 8192, n - 4096, n - 2, n - 1};
	for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
		memcpy(b, a, n * sizeof(*a));
		b[at[k]] = 1; /* odd: no key of a */
		plan_of(a, n, b, n, &nadd, &add0, &ndel, &del0);
		assert_int_equal(nadd, 1);
		assert_int_equal(ndel, 1);
		assert_int_equal(add0, at[k]);
		assert_int_equal(del0, at[k]);
	}
	/* One key added at the end, at the start, in the middle (the rest moved along). */
	memcpy(b, a, n * sizeof(*a));
	b[n] = 2 * (uint32_t)n;
	plan_of(a, n, b, n + 1, &nadd, &add0, &ndel, &del0);
	assert_int_equal(nadd, 1);
	assert_int_equal(ndel, 0);
	assert_int_equal(add0, n);
	b[0] = 1;
	memcpy(b + 1, a, n * sizeof(*a));
	plan_of(a, n, b, n + 1, &nadd, &add0, &ndel, &del0);
	assert_int_equal(nadd, 1);
	assert_int_equal(ndel, 0);
	assert_int_equal(add0, 0);
	memcpy(b, a, 4096 * sizeof(*a));
	b[4096] = 8191;
	memcpy(b + 4097, a + 4096, (n - 4096) * sizeof(*a));
	plan_of(a, n, b, n + 1, &nadd, &add0, &ndel, &del0);
	assert_int_equal(nadd, 1);
	assert_int_equal(ndel, 0);
	assert_int_equal(add0, 4096);
	/* One taken away: the last, the first. */
	plan_of(b, n + 1, a, n, &nadd, &add0, &ndel, &del0);
	assert_int_equal(nadd, 0);
	assert_int_equal(ndel, 1);
	assert_int_equal(del0, 4096);
	plan_of(a, n, a, n - 1, &nadd, &add0, &ndel, &del0);
	assert_int_equal(ndel, 1);
	assert_int_equal(del0, n - 1);
	plan_of(a, n, a + 1, n - 1, &nadd, &add0, &ndel, &del0);
	assert_int_equal(nadd, 0);
	assert_int_equal(ndel, 1);
	assert_int_equal(del0, 0);
	/* Empty sets on either side. */
	plan_of(a, 0, a, n, &nadd, &add0, &ndel, &del0);
	assert_int_equal(nadd, n);
	assert_int_equal(ndel, 0);
	plan_of(a, n, a, 0, &nadd, &add0, &ndel, &del0);
	assert_int_equal(nadd, 0);
	assert_int_equal(ndel, n);
	free(a);
	free(b);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	char *buf = xmalloc(*len + 1);
	assert_int_equal(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

/*
 * A record written, read back and written again is the same file: records
 * alone (read as runs), and with an element of its own attributes (a
 * verdict) in the middle of a run.
 */
static void test_record_round_trip(void **state)
{
	(void)state;
	char dir[] = "/tmp/pc-test-delta-XXXXXX";
	char one[64], two[64], why[256];
	const size_t n = 9000;
	uint32_t *keys = range(n);

	assert_non_null(mkdtemp(dir));
	snprintf(one, sizeof(one), "%s/one", dir);
	snprintf(two, sizeof(two), "%s/two", dir);
	for (int raw = 0; raw < 3; raw++) {
		struct pc_dl_state s, r;
		kept = NULL;
		make_state_as(&s, keys, n, raw == 2);
		if (raw == 1) {
			/* Every element as its attributes; element 5000 carries a verdict too. */
			struct pc_dl_set *x = &s.sets[0];
			x->elems = xcalloc(n, sizeof(*x->elems));
			for (size_t i = 0; i < n; i++) {
				uint8_t a[32];
				struct nlattr nest = {12, NFTA_SET_ELEM_KEY | NLA_F_NESTED};
				struct nlattr val = {8, NFTA_DATA_VALUE};
				memcpy(a, &nest, 4);
				memcpy(a + 4, &val, 4);
				key_of(keys[i], a + 8);
				size_t len = 12;
				if (i == 5000) {
					struct nlattr v = {8, NFTA_SET_ELEM_DATA};
					uint32_t accept = htonl(1);
					memcpy(a + 12, &v, 4);
					memcpy(a + 16, &accept, 4);
					len = 20;
				}
				x->elems[i] = add_bytes(&s, a, len);
			}
			free(x->recs);
			x->recs = NULL;
		}
		assert_int_equal(pc_dl_write(&s, one, VERSION), 0);
		assert_int_equal(pc_dl_read(one, "t", VERSION, &r, why, sizeof(why)), 0);
		assert_int_equal(r.nsets, 1);
		assert_int_equal(r.sets[0].n, n);
		/* Records alone come back as records, one element of its own makes them attributes.
		 */
		assert_true(raw == 1 ? r.sets[0].elems != NULL : r.sets[0].recs != NULL);
		if (!raw) {
			assert_memory_equal(r.sets[0].recs, s.sets[0].recs, 5 * n);
		} else if (raw == 2) {
			/* Keys kept elsewhere are written as the records they stand for. */
			struct pc_dl_state m;
			make_state(&m, keys, n);
			assert_memory_equal(r.sets[0].recs, m.sets[0].recs, 5 * n);
			pc_dl_state_finish(&m);
		}
		assert_int_equal(pc_dl_write(&r, two, VERSION), 0);
		size_t l1, l2;
		char *b1 = read_all(one, &l1), *b2 = read_all(two, &l2);
		assert_int_equal(l1, l2);
		assert_memory_equal(b1, b2, l1);
		free(b1);
		free(b2);
		pc_dl_state_finish(&s);
		pc_dl_state_finish(&r);
		free(kept);
	}
	unlink(one);
	unlink(two);
	rmdir(dir);
	free(keys);
}

int main(void)
{
	static int forms[] = {0, 1, 2, 3};
	const struct CMUnitTest tests[] = {
			cmocka_unit_test_prestate(test_plan_edges, &forms[0]),
			cmocka_unit_test_prestate(test_plan_edges, &forms[1]),
			cmocka_unit_test_prestate(test_plan_edges, &forms[2]),
			cmocka_unit_test_prestate(test_plan_edges, &forms[3]),
			cmocka_unit_test(test_record_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
