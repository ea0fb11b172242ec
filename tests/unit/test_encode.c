/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How the batch writes set elements: straight into its buffer, attribute by
 * attribute, with no libnftnl object per element.  Each NEWSETELEM message
 * of the transactions of the project's policies (and of one made to hold
 * every kind of element) is read by libnftnl and written again by it: the
 * two must be the same bytes.  And the allocations a transaction costs do
 * not grow with its elements.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

#include "portcullis/delta.h"
#include "portcullis/netlink.h"
#include "portcullis/nft.h"
#include "portcullis/policy.h"

/*
 * Every kind of element: IPv4 and IPv6 hosts (hash sets), prefixes and an
 * interval up to the largest address (interval sets, the last start flagged
 * open), port ranges in verdict maps (accept, drop, jumps, comments, a range
 * up to 65535), and rules told apart only by their sources (a verdict map by
 * source address).
 */
static const char every_kind[] =
		"version: 1\n"
		"policy: every-kind\n"
		"networks:\n"
		"  hosts: [192.0.2.1, 192.0.2.7, \"2001:db8::1\", \"2001:db8::9\"]\n"
		"  nets: [10.0.0.0/8, 255.255.255.0/24, \"2001:db8:10::/48\", \"ffff::/16\"]\n"
		"  a: [198.51.100.1]\n"
		"  b: [198.51.100.2]\n"
		"  c: [198.51.100.0/30]\n"
		"  d: [203.0.113.0/24]\n"
		"  e: [\"2001:db8:e::/48\"]\n"
		"rules:\n"
		"  - allow: 22/tcp\n"
		"    from: hosts\n"
		"    comment: hosts to ssh\n"
		"  - deny: 23/tcp\n"
		"  - allow: 1000-2000/tcp\n"
		"    from: nets\n"
		"  - allow: 60000-65535/udp\n"
		"    comment: up to the top\n"
		"  - allow: 749/tcp\n"
		"    from: a\n"
		"  - deny: 749/tcp\n"
		"    from: b\n"
		"  - allow: 749/tcp\n"
		"    from: c\n"
		"  - allow: 749/tcp\n"
		"    from: d\n"
		"  - allow: 749/tcp\n"
		"    from: e\n"
		"  - allow: 88/udp\n";

/* What the compared elements held, so the test knows it saw every kind. */
struct seen {
	size_t msgs, elems, v4, v6, ports, ends, verdicts, jumps, udata, open;
};

static int note_elem(struct nftnl_set_elem *e, void *arg)
{
	struct seen *s = arg;
	uint32_t len = 0;

	s->elems++;
	nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	s->v4 += len == 4;
	s->v6 += len == 16;
	s->ports += len == 2;
	s->ends += nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
		   (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);
	s->verdicts += nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT);
	s->jumps += nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)) {
		const uint8_t *u = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len);
		s->udata++;
		for (uint32_t i = 0; i + 2 <= len; i += 2u + u[i + 1])
			s->open += u[i] == NFTNL_UDATA_SET_ELEM_FLAGS;
	}
	return 0;
}

/* The attribute nested in `a` of `type`; NULL: none. */
static const struct nlattr *nested(const struct nlattr *a, uint16_t type)
{
	const struct nlattr *x;

	mnl_attr_for_each_nested(x, a) if (mnl_attr_get_type(x) == type) return x;
	return NULL;
}

/*
 * One element as libnftnl holds it, from its attributes (libnftnl 1.2.4
 * cannot read back a list it wrote: it numbers the elements, then wants
 * each typed NFTA_LIST_ELEM).  Anything the walk does not know fails.
 */
static struct nftnl_set_elem *elem_read(const struct nlattr *nest)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	const struct nlattr *a, *v;

	assert_non_null(e);
	mnl_attr_for_each_nested(a, nest)
	{
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_FLAGS:
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, ntohl(mnl_attr_get_u32(a)));
			break;
		case NFTA_SET_ELEM_KEY:
			assert_non_null(v = nested(a, NFTA_DATA_VALUE));
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, mnl_attr_get_payload(v),
					mnl_attr_get_payload_len(v));
			break;
		case NFTA_SET_ELEM_DATA:
			assert_non_null(v = nested(a, NFTA_DATA_VERDICT));
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT,
					ntohl(mnl_attr_get_u32(nested(v, NFTA_VERDICT_CODE))));
			if (nested(v, NFTA_VERDICT_CHAIN))
				nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN,
						mnl_attr_get_str(nested(v, NFTA_VERDICT_CHAIN)));
			break;
		case NFTA_SET_ELEM_USERDATA:
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, mnl_attr_get_payload(a),
					mnl_attr_get_payload_len(a));
			break;
		default:
			fail_msg("element attribute %u", mnl_attr_get_type(a));
		}
	}
	return e;
}

/* A NEWSETELEM message as libnftnl holds it. */
static struct nftnl_set *elems_read(const struct nlmsghdr *nlh)
{
	struct nftnl_set *set = nftnl_set_alloc();
	const struct nlattr *a, *e;
	uint16_t i = 0;

	assert_non_null(set);
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_LIST_TABLE:
			nftnl_set_set_str(set, NFTNL_SET_TABLE, mnl_attr_get_str(a));
			break;
		case NFTA_SET_ELEM_LIST_SET:
			nftnl_set_set_str(set, NFTNL_SET_NAME, mnl_attr_get_str(a));
			break;
		case NFTA_SET_ELEM_LIST_SET_ID:
			nftnl_set_set_u32(set, NFTNL_SET_ID, ntohl(mnl_attr_get_u32(a)));
			break;
		case NFTA_SET_ELEM_LIST_ELEMENTS:
			mnl_attr_for_each_nested(e, a)
			{
				assert_int_equal(mnl_attr_get_type(e), ++i);
				nftnl_set_elem_add(set, elem_read(e));
			}
			break;
		default:
			fail_msg("element list attribute %u", mnl_attr_get_type(a));
		}
	}
	assert_true(i > 0);
	return set;
}

/* Each element message of b against libnftnl's writing of what it reads in it. */
static void compare_elems(const struct pc_nl_batch *b, struct seen *s)
{
	char *again = malloc(MNL_SOCKET_BUFFER_SIZE * 32);
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)b->buf;

	assert_non_null(again);
	for (size_t i = 0; i < b->n;
			i++, nlh = (const struct nlmsghdr *)((const char *)nlh +
							     NLMSG_ALIGN(nlh->nlmsg_len))) {
		if (nlh->nlmsg_type != (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSETELEM))
			continue;
		struct nftnl_set *set = elems_read(nlh);
		const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
		memset(again, 0, MNL_SOCKET_BUFFER_SIZE * 32);
		struct nlmsghdr *out = nftnl_nlmsg_build_hdr(again, NFT_MSG_NEWSETELEM,
				g->nfgen_family, nlh->nlmsg_flags & ~NLM_F_REQUEST, nlh->nlmsg_seq);
		nftnl_set_elems_nlmsg_build_payload(out, set);
		if (out->nlmsg_len != nlh->nlmsg_len || memcmp(out, nlh, nlh->nlmsg_len)) {
			size_t at = 0;
			while (at < out->nlmsg_len && at < nlh->nlmsg_len &&
					((const char *)out)[at] == ((const char *)nlh)[at])
				at++;
			fail_msg("message %zu (elements of set %s): %u bytes, libnftnl writes %u; "
				 "first difference at byte %zu",
					i, b->msgs[i].name, nlh->nlmsg_len, out->nlmsg_len, at);
		}
		nftnl_set_elem_foreach(set, note_elem, s);
		nftnl_set_free(set);
		s->msgs++;
	}
	free(again);
}

struct model {
	struct pc_policy p;
	struct pc_diags d;
	struct pc_registry *reg;
	struct pc_nft_table t;
};

/* Loads path, or text when not NULL; false when the policy does not lower. */
static bool model_load(struct model *m, const char *path, const char *text, size_t len)
{
	pc_policy_init(&m->p);
	pc_diags_init(&m->d);
	m->reg = pc_registry_create();
	memset(&m->t, 0, sizeof(m->t));
	int rc = text ? pc_policy_load_mem(&m->p, path, text, len, &m->d)
		      : pc_policy_load(&m->p, path, &m->d);
	return rc == 0 && pc_policy_resolve(&m->p, m->reg, &m->d) == 0 &&
	       pc_nft_lower(&m->p, "pctest", &m->t, &m->d) == 0;
}

static void model_finish(struct model *m)
{
	pc_nft_table_finish(&m->t);
	pc_diags_finish(&m->d);
	pc_policy_finish(&m->p);
	pc_registry_destroy(m->reg);
}

static void compare_model(struct model *m, struct seen *s)
{
	struct pc_nl_batch b;
	struct pc_nl_options o = {.seq = 1, .commit = true, .lo_ifindex = 1};

	pc_nl_build(&m->t, &o, &b);
	compare_elems(&b, s);
	pc_nl_batch_finish(&b);
}

/*
 * Calls fn with the model of every policy of the project that lowers
 * (policies/, examples/, tests/render/); returns how many.
 */
static size_t each_policy(void (*fn)(struct model *m, void *arg), void *arg)
{
	static const char *const dirs[] = {"policies", "examples", "tests/render"};
	struct model m;
	size_t policies = 0;

	for (size_t k = 0; k < PC_ARRAY_SIZE(dirs); k++) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s", src_path(dirs[k]));
		DIR *d = opendir(dir);
		assert_non_null(d);
		for (struct dirent *de; (de = readdir(d));) {
			size_t len = strlen(de->d_name);
			if (len < 6 || strcmp(de->d_name + len - 5, ".yaml"))
				continue;
			char path[8192];
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (model_load(&m, path, NULL, 0)) {
				fn(&m, arg);
				policies++;
			}
			model_finish(&m);
		}
		closedir(d);
	}
	return policies;
}

static void compare_each(struct model *m, void *arg)
{
	compare_model(m, arg);
}

static void test_elements_as_libnftnl_writes_them(void **state)
{
	struct model m;
	struct seen s = {0};

	(void)state;
	assert_true(model_load(&m, "every-kind.yaml", every_kind, sizeof(every_kind) - 1));
	compare_model(&m, &s);
	model_finish(&m);
	assert_true(s.msgs >= 4);
	assert_true(s.v4 && s.v6 && s.ports && s.ends && s.verdicts && s.jumps && s.udata &&
			s.open);

	/* every policy of the project that lowers */
	assert_true(each_policy(compare_each, &s) >= 10);
}

/* ---- prefixes given back as the batch is written ---- */

/* A policy of n hosts that one rule names, and `ranges` ports each with a comment (map elements).
 */
static char *big_policy(size_t n, size_t ranges, size_t *len)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	assert_non_null(f);
	fputs("version: 1\npolicy: big\nnetworks:\n  big: [", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s10.%zu.%zu.%zu", i ? ", " : "", (i + 1) >> 16 & 255,
				(i + 1) >> 8 & 255, (i + 1) & 255);
	fputs("]\nrules:\n  - allow: 88/tcp\n    from: big\n", f);
	for (size_t i = 0; i < ranges; i++)
		fprintf(f, "  - allow: %zu-%zu/udp\n    comment: range %zu\n", 2 * i + 1000,
				2 * i + 1000, i);
	fclose(f);
	*len = size;
	return text;
}

/* The state file of s, read whole into a malloc'd buffer; its length in *len. */
static char *state_bytes(const struct pc_dl_state *s, const char *dir, size_t *len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/installed", dir);
	assert_int_equal(pc_dl_write(s, path, "test"), 0);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *text = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&text, &size);
	assert_non_null(m);
	for (int c; (c = fgetc(f)) != EOF;)
		fputc(c, m);
	fclose(m);
	fclose(f);
	unlink(path);
	*len = size;
	return text;
}

/*
 * The batch built giving the prefixes' pages back is the batch built
 * without, byte for byte, and the record read off it is the record read
 * off the model.  Returns whether some prefix read as zero after: its page
 * was given back.
 */
static bool compare_release(struct model *m, const char *dir)
{
	struct pc_nl_batch full, released;
	struct pc_nl_options o = {.seq = 1, .commit = true, .lo_ifindex = 1};
	struct pc_dl_state from_model, from_batch;
	size_t la, lb;

	pc_nl_build(&m->t, &o, &full);
	pc_dl_from_model(&m->t, &full, "pctest", &from_model);
	from_model.batch = NULL;
	char *a = state_bytes(&from_model, dir, &la);
	o.release_prefixes = true;
	pc_nl_build(&m->t, &o, &released);
	assert_int_equal(full.len, released.len);
	assert_memory_equal(full.buf, released.buf, full.len);
	pc_dl_from_batch(&released, "pctest", &from_batch);
	from_batch.batch = NULL;
	char *b = state_bytes(&from_batch, dir, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	bool zero = false;
	static const uint8_t none[16];
	for (size_t i = 0; i < m->t.nsets; i++)
		for (size_t k = 0; k < m->t.sets[i].n && m->t.sets[i].type != PC_NFT_SET_SERVICE;
				k++)
			zero |= !memcmp(m->t.sets[i].prefixes[k].bytes, none, 16) &&
				m->t.sets[i].prefixes[k].family == 0;
	free(a);
	free(b);
	pc_dl_state_finish(&from_model);
	pc_dl_state_finish(&from_batch);
	pc_nl_batch_finish(&full);
	pc_nl_batch_finish(&released);
	return zero;
}

static void release_each(struct model *m, void *dir)
{
	compare_release(m, dir);
}

/* How many of the pages holding buf[0..len) are resident. */
static size_t resident_pages(const char *buf, size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t from = (uintptr_t)buf & ~(page - 1);
	size_t n = ((uintptr_t)buf + len - from + page - 1) / page, in = 0;
	unsigned char *v = calloc(n, 1);

	assert_non_null(v);
	assert_int_equal(mincore((void *)from, n * page, v), 0);
	for (size_t i = 0; i < n; i++)
		in += v[i] & 1;
	free(v);
	return in;
}

/*
 * The record of a batch read for the last time (apply, after the commit)
 * is the record of the same batch read as any other, and the pages of its
 * named sets' elements are given back as they are read.
 */
static void sent_each(struct model *m, void *dir)
{
	struct pc_nl_batch b, sent;
	struct pc_nl_options o = {.seq = 1, .commit = true, .lo_ifindex = 1};
	struct pc_dl_state read, given;
	size_t la, lb;

	pc_nl_build(&m->t, &o, &b);
	pc_nl_build(&m->t, &o, &sent);
	pc_dl_from_batch(&b, "pctest", &read);
	read.batch = NULL;
	size_t before = resident_pages(sent.buf, sent.len);
	pc_dl_from_sent_batch(&sent, "pctest", &given);
	assert_null(given.batch);
	char *x = state_bytes(&read, dir, &la), *y = state_bytes(&given, dir, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(x, y, la);
	if (b.len >= 4 * PC_RELEASE_STEP) {
		/* a large set's elements, in steps: most of the batch */
		size_t after = resident_pages(sent.buf, sent.len);
		assert_true(after < before / 2);
	}
	free(x);
	free(y);
	pc_dl_state_finish(&read);
	pc_dl_state_finish(&given);
	pc_nl_batch_finish(&b);
	pc_nl_batch_finish(&sent);
}

static void test_sent_batch_given_back(void **state)
{
	struct model m;
	char dir[] = "/tmp/pc-test-encode-XXXXXX";
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	char *text = big_policy(150000, 1500, &len);
	assert_true(model_load(&m, "big.yaml", text, len));
	sent_each(&m, dir);
	model_finish(&m);
	free(text);
	assert_true(each_policy(sent_each, dir) >= 10);
	rmdir(dir);
}

static void test_release_prefixes(void **state)
{
	struct model m;
	char dir[] = "/tmp/pc-test-encode-XXXXXX";
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_true(model_load(&m, "every-kind.yaml", every_kind, sizeof(every_kind) - 1));
	compare_release(&m, dir);
	model_finish(&m);
	/* Two rules that write the same peers share one array: neither gives it back. */
	char *text = big_policy(150000, 1500, &len);
	char *shared = malloc(len + 200);
	assert_non_null(shared);
	int slen = sprintf(shared,
			"%.*s]\n  ssh: [192.0.2.0/24]\nrules:\n  - allow: 22/tcp\n    from: [big, ssh]\n"
			"  - allow: 25/tcp\n    from: [big, ssh]\n",
			(int)(strstr(text, "]\nrules:") - text), text);
	assert_true(model_load(&m, "shared.yaml", shared, (size_t)slen));
	bool same = false;
	for (size_t i = 0; i < m.t.nsets; i++)
		for (size_t k = 0; k < i; k++)
			same |= m.t.sets[i].n > 1000 &&
				m.t.sets[i].prefixes == m.t.sets[k].prefixes;
	assert_true(same);
	assert_false(compare_release(&m, dir));
	model_finish(&m);
	free(shared);
	/* A large network's pages go back. */
	assert_true(model_load(&m, "big.yaml", text, len));
	assert_true(compare_release(&m, dir));
	model_finish(&m);
	free(text);
	/* Past PC_HUGE_MIN of prefixes (of huge pages): given back in whole huge pages. */
	text = big_policy(400000, 1, &len);
	assert_true(model_load(&m, "huge.yaml", text, len));
	assert_true(compare_release(&m, dir));
	model_finish(&m);
	free(text);

	assert_true(each_policy(release_each, dir) >= 10);
	rmdir(dir);
}

/* ---- allocations ---- */

#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNT_ALLOCS 0
#endif
#endif
#ifndef COUNT_ALLOCS
#define COUNT_ALLOCS 1
#endif

#if COUNT_ALLOCS
static bool counting;
static size_t allocs;

/*
 * The allocator, counted while `counting`: this program's malloc is the
 * one every library calls, and hands each call to the C library's.  Not
 * under AddressSanitizer, whose allocator must see every call.
 */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

void *malloc(size_t n)
{
	allocs += counting;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	allocs += counting;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	allocs += counting;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

/* The allocations pc_nl_build() makes for the big policy of n. */
static size_t build_allocs(size_t n)
{
	struct model m;
	struct pc_nl_batch b;
	struct pc_nl_options o = {.seq = 1, .commit = true, .lo_ifindex = 1};
	size_t len, got;
	char *text = big_policy(n, n / 100, &len);

	assert_true(model_load(&m, "big.yaml", text, len));
	allocs = 0;
	counting = true;
	pc_nl_build(&m.t, &o, &b);
	counting = false;
	got = allocs;
	assert_true(b.nelems >= n);
	pc_nl_batch_finish(&b);
	model_finish(&m);
	free(text);
	return got;
}
#endif

/*
 * Ten times the elements cost no more allocations: the elements go into the
 * batch's buffer, reserved once, not into objects of their own.
 */
static void test_allocations_flat(void **state)
{
	(void)state;
#if !COUNT_ALLOCS
	skip();
#else
	size_t small = build_allocs(2000), large = build_allocs(20000);
	if (!small)
		skip(); /* another allocator answers (valgrind): nothing was counted */
	print_message("allocations: %zu for 2 000 hosts, %zu for 20 000\n", small, large);
	assert_true(large <= small + small / 10);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_elements_as_libnftnl_writes_them),
			cmocka_unit_test(test_allocations_flat),
			cmocka_unit_test(test_release_prefixes),
			cmocka_unit_test(test_sent_batch_given_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
