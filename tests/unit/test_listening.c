/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check --listening without the kernel: a list of sockets against a policy, and /proc read. */
#include "testutil.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portcullis/listening.h"
#include "portcullis/policy.h"
#include "portcullis/registry.h"

struct checked {
	struct pc_policy p;
	struct pc_registry *reg;
	struct pc_diags d;
};

static void check_text(struct checked *c, const char *text)
{
	pc_policy_init(&c->p);
	pc_diags_init(&c->d);
	c->reg = pc_registry_create();
	assert_int_equal(pc_policy_load_mem(&c->p, "p.yaml", text, strlen(text), &c->d), 0);
	assert_int_equal(pc_policy_resolve(&c->p, c->reg, &c->d), 0);
	pc_diags_finish(&c->d);
	pc_diags_init(&c->d);
}

static void done(struct checked *c)
{
	pc_policy_finish(&c->p);
	pc_diags_finish(&c->d);
	pc_registry_destroy(c->reg);
}

static struct pc_listener sock(enum pc_proto proto, const char *addr, uint16_t port)
{
	struct pc_listener s = {.proto = proto, .port = port, .pid = 42, .comm = "kdc"};

	if (inet_pton(AF_INET, addr, s.addr) == 1)
		s.family = 4;
	else {
		assert_int_equal(inet_pton(AF_INET6, addr, s.addr), 1);
		s.family = 6;
	}
	return s;
}

/* The first record with this code whose message holds `text`, or NULL. */
static const struct pc_diag *find(const struct pc_diags *d, const char *code, const char *text)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].code, code) && strstr(d->v[i].msg, text))
			return &d->v[i];
	return NULL;
}

#define H "version: 1\npolicy: t\n"

static void test_allowed_not_listening(void **state)
{
	struct checked c;
	struct pc_listener v[] = {
			sock(PC_PROTO_TCP, "0.0.0.0", 88),
			sock(PC_PROTO_UDP, "192.0.2.1", 88),
	};

	(void)state;
	check_text(&c, H "rules:\n"
			 "  - allow: [88/tcp, 88/udp, 464/tcp]\n"
			 "  - allow: 6000-6010/tcp\n"
			 "  - deny: 749/tcp\n");
	pc_policy_check_listening(&c.p, v, 2, &c.d);
	assert_int_equal(count_diag(&c.d, "allowed-not-listening"), 2);
	const struct pc_diag *r = find(&c.d, "allowed-not-listening", "tcp port 464");
	assert_non_null(r);
	assert_int_equal(r->line, 4);
	assert_int_equal(r->col, 29);
	assert_non_null(find(&c.d, "allowed-not-listening", "tcp ports 6000-6010"));
	/* A rule that denies says nothing of what listens. */
	assert_null(find(&c.d, "allowed-not-listening", "749"));
	done(&c);
}

static void test_listening_dropped(void **state)
{
	struct checked c;
	struct pc_listener v[] = {
			sock(PC_PROTO_TCP, "10.1.0.1", 88),
			sock(PC_PROTO_TCP, "10.1.0.1", 754),
			sock(PC_PROTO_TCP, "10.1.0.1", 754), /* the same place twice: said once */
			sock(PC_PROTO_TCP, "127.0.0.1", 8888), /* loopback: not checked */
			sock(PC_PROTO_TCP, "::1", 8889),
			sock(PC_PROTO_TCP, "10.1.0.1", 749),
			sock(PC_PROTO_TCP, "10.1.0.1", 23),
	};

	(void)state;
	v[1].pid = 0;
	v[1].uid = 7;
	check_text(&c, H "defaults:\n  input: drop\n"
			 "networks:\n  admins: [10.9.0.0/24]\n"
			 "rules:\n"
			 "  - allow: 88/tcp\n"
			 "  - allow: 749/tcp\n    from: admins\n"
			 "  - reject: 23/tcp\n");
	pc_policy_check_listening(&c.p, v, PC_ARRAY_SIZE(v), &c.d);
	assert_int_equal(count_diag(&c.d, "listening-dropped"), 2);
	const struct pc_diag *r = find(&c.d, "listening-dropped", "tcp port 754 on 10.1.0.1");
	assert_non_null(r);
	assert_non_null(strstr(r->msg, "process not shown by /proc, uid 7"));
	assert_non_null(strstr(r->msg, "default policy of input is drop"));
	assert_non_null(strstr(r->msg, "replicas will never receive the database"));
	assert_int_equal(r->line, 2); /* the policy's name: the defaults decide */
	r = find(&c.d, "listening-dropped", "tcp port 23");
	assert_non_null(r);
	assert_non_null(strstr(r->msg, "(kdc, pid 42)"));
	assert_non_null(strstr(r->msg, "this rule rejects it"));
	assert_int_equal(r->line, 11);
	r = find(&c.d, "listening-restricted", "tcp port 749");
	assert_non_null(r);
	assert_int_equal(r->sev, PC_SEV_NOTE);
	assert_int_equal(r->line, 9);
	assert_null(find(&c.d, "listening-dropped", "8888"));
	assert_null(find(&c.d, "listening-dropped", "8889"));
	assert_null(find(&c.d, "listening-dropped", "port 88 "));
	done(&c);
}

static void test_listening_families(void **state)
{
	struct checked c;
	struct pc_listener v[] = {
			sock(PC_PROTO_UDP, "::", 88), /* dual-stack: IPv4 reaches it */
			sock(PC_PROTO_UDP, "::", 464), sock(PC_PROTO_TCP, "2001:db8::1", 749),
			sock(PC_PROTO_UDP, "0.0.0.0", 40000), /* a client's, most likely */
	};

	(void)state;
	v[1].v6only = true;
	v[3].ephemeral = true;
	check_text(&c, H "defaults:\n  input: drop\n"
			 "rules:\n"
			 "  - allow: [88/udp, 464/udp]\n    from: 0.0.0.0/0\n"
			 "  - allow: 749/tcp\n    to: 2001:db8::1\n");
	pc_policy_check_listening(&c.p, v, PC_ARRAY_SIZE(v), &c.d);
	assert_null(find(&c.d, "listening-dropped", "port 88 "));
	assert_non_null(find(&c.d, "listening-dropped", "udp port 464 on every IPv6 address (::)"));
	assert_null(find(&c.d, "listening-dropped", "749"));
	assert_int_equal(count_diag(&c.d, "listening-dropped"), 1);
	done(&c);
}

/* A socket bound to an interface meets the rules of that interface; one bound to lo is not checked.
 */
static void test_listening_interface(void **state)
{
	struct checked c;
	struct pc_listener v[] = {
			sock(PC_PROTO_TCP, "0.0.0.0", 754),
			sock(PC_PROTO_TCP, "0.0.0.0", 755),
			sock(PC_PROTO_TCP, "0.0.0.0", 756),
	};

	(void)state;
	memcpy(v[0].ifname, "eth1", 5);
	v[0].ifindex = 3;
	memcpy(v[1].ifname, "eth2", 5);
	v[1].ifindex = 4;
	memcpy(v[2].ifname, "lo", 3);
	v[2].ifindex = 1;
	check_text(&c, H "defaults:\n  input: drop\n"
			 "rules:\n"
			 "  - allow: [754/tcp, 755/tcp]\n    interface: eth1\n");
	pc_policy_check_listening(&c.p, v, PC_ARRAY_SIZE(v), &c.d);
	assert_null(find(&c.d, "listening-dropped", "754"));
	const struct pc_diag *r = find(&c.d, "listening-dropped", "tcp port 755");
	assert_non_null(r);
	assert_non_null(strstr(r->msg, "(bound to eth2)"));
	assert_null(find(&c.d, "listening-dropped", "756"));
	done(&c);
}

/* A /proc of one process holding two sockets, and one whose descriptors are not shown. */
/*
 * The source index decides as the evaluator does: for many sources against
 * rules of every kind (deny and reject before allow, nested prefixes of both
 * families, destinations, interfaces, limits, a rule from anywhere), each
 * packet kind, with and without an interface.
 */
static void test_source_index(void **state)
{
	static const char *const srcs[] = {"10.0.0.1", "10.0.0.2", "10.0.1.9", "10.1.2.3",
			"192.0.2.77", "198.51.100.7", "0.0.0.0", "255.255.255.255", "2001:db8::1",
			"2001:db8:1::5", "2001:db8:2::", "fe80::1", "::"};
	static const char *const ifaces[] = {"", "eth0", "eth1", "lo"};
	static const uint16_t ports[] = {22, 88, 100, 749, 1000};
	struct checked c;

	(void)state;
	check_text(&c, H
			"defaults: {input: drop, loopback: accept}\n"
			"rules:\n"
			"  - deny: 88/tcp\n    from: [10.0.0.2, \"2001:db8::1\"]\n"
			"  - reject: [22/tcp, 88/tcp]\n    from: 10.0.0.0/24\n    interface: eth1\n"
			"  - allow: 88/tcp\n    from: [10.0.0.0/8, \"2001:db8::/32\"]\n"
			"    to: 192.0.2.1\n"
			"  - allow: 1-100/tcp\n    from: 10.0.0.0/16\n    limit: 5/second\n"
			"  - allow: 88/tcp\n    from: [10.0.0.0/16, 10.1.0.0/16, \"2001:db8:1::/48\"]\n"
			"  - deny: 749/tcp\n    from: [0.0.0.0/0]\n"
			"  - allow: [22/tcp, 749/tcp]\n    from: [10.0.0.0/8, \"2001:db8:2::/48\"]\n"
			"    interface: [eth0]\n"
			"  - allow: 1000/tcp\n"
			"  - deny: 1000/tcp\n    from: 10.0.0.1\n");
	for (size_t f = 0; f < 2; f++)
		for (size_t i = 0; i < sizeof(ifaces) / sizeof(*ifaces); i++)
			for (size_t k = 0; k < sizeof(ports) / sizeof(*ports); k++)
				for (int d = 0; d < 2; d++)
					for (int lim = 0; lim < 2; lim++) {
						struct pc_packet pkt = {.direction = PC_DIR_INPUT,
								.proto = PC_PROTO_TCP,
								.port = ports[k],
								.family = f ? 6 : 4,
								.has_src = true,
								.has_dst = d,
								.over_limit = lim};
						snprintf(pkt.iface, sizeof(pkt.iface), "%s",
								ifaces[i]);
						if (d)
							inet_pton(AF_INET, "192.0.2.1", pkt.dst);
						struct pc_source_index *x =
								pc_source_index_create(&c.p, &pkt);
						for (size_t s = 0; s < sizeof(srcs) / sizeof(*srcs);
								s++) {
							struct pc_decision want, got;
							if (inet_pton(f ? AF_INET6 : AF_INET,
									    srcs[s], pkt.src) != 1)
								continue;
							pc_policy_evaluate(&c.p, &pkt, &want);
							pc_source_index_evaluate(x, pkt.src, &got);
							assert_int_equal(got.by_rule, want.by_rule);
							assert_int_equal(got.rule, want.rule);
							assert_int_equal(got.match, want.match);
							assert_int_equal(got.action, want.action);
							assert_int_equal(got.verdict, want.verdict);
							assert_int_equal(got.by_loopback,
									want.by_loopback);
						}
						pc_source_index_destroy(x);
					}
	pc_source_index_destroy(NULL);
	done(&c);
}

/*
 * The index explain --packets asks decides as the evaluator does, the
 * rules passed over counted too: packets with and without a source or a
 * destination, on an interface or none, of each direction and family,
 * against rules whose sources nest, are shared, or are anywhere.
 */
static void test_eval_index(void **state)
{
	static const char *const srcs[] = {"", "10.0.0.1", "10.0.0.2", "10.1.2.3", "192.0.2.77",
			"2001:db8::1", "2001:db8:1::5", "fe80::1"};
	static const char *const dsts[] = {"", "192.0.2.1", "192.0.2.9", "2001:db8::10"};
	static const char *const ifaces[] = {"", "eth0", "eth1", "lo"};
	static const uint16_t ports[] = {22, 88, 100, 749, 1000};
	static const enum pc_direction dirs[] = {PC_DIR_INPUT, PC_DIR_OUTPUT, PC_DIR_FORWARD};
	struct checked c;

	(void)state;
	check_text(&c, H
			"defaults: {input: drop, loopback: accept}\n"
			"networks:\n  lab: [10.0.0.0/8, \"2001:db8::/32\"]\n"
			"rules:\n"
			"  - deny: 88/tcp\n    from: [10.0.0.2, \"2001:db8::1\"]\n"
			"  - reject: [22/tcp, 88/tcp]\n    from: 10.0.0.0/24\n    interface: eth1\n"
			"  - allow: 88/tcp\n    from: lab\n    to: 192.0.2.1\n"
			"  - allow: 1-100/tcp\n    from: lab\n    limit: 5/second\n"
			"  - allow: 88/tcp\n    direction: output\n    to: 192.0.2.1\n"
			"  - allow: 88/tcp\n    direction: forward\n    from: lab\n"
			"    to: [192.0.2.9, \"2001:db8::10\"]\n"
			"  - allow: 88/tcp\n    from: [10.0.0.0/16, \"2001:db8:1::/48\"]\n"
			"  - deny: 749/tcp\n    from: [0.0.0.0/0]\n"
			"  - allow: [22/tcp, 749/tcp]\n    from: [10.0.0.0/8]\n    interface: [eth0]\n"
			"  - allow: 1000/tcp\n    interface: eth0\n"
			"  - deny: 1000/tcp\n    from: 10.0.0.1\n");
	struct pc_eval_index *x = pc_eval_index_create(&c.p);
	for (size_t a = 0; a < sizeof(srcs) / sizeof(*srcs); a++)
		for (size_t b = 0; b < sizeof(dsts) / sizeof(*dsts); b++)
			for (size_t i = 0; i < sizeof(ifaces) / sizeof(*ifaces); i++)
				for (size_t k = 0; k < sizeof(ports) / sizeof(*ports); k++)
					for (size_t d = 0; d < 3; d++) {
						struct pc_packet pkt = {.direction = dirs[d],
								.proto = PC_PROTO_TCP,
								.port = ports[k]};
						struct pc_decision want, got;
						uint8_t f = 0;
						snprintf(pkt.iface, sizeof(pkt.iface), "%s",
								ifaces[i]);
						if (srcs[a][0]) {
							f = strchr(srcs[a], ':') ? 6 : 4;
							inet_pton(f == 6 ? AF_INET6 : AF_INET,
									srcs[a], pkt.src);
							pkt.has_src = true;
						}
						if (dsts[b][0]) {
							uint8_t g = strchr(dsts[b], ':') ? 6 : 4;
							if (f && g != f)
								continue;
							f = g;
							inet_pton(g == 6 ? AF_INET6 : AF_INET,
									dsts[b], pkt.dst);
							pkt.has_dst = true;
						}
						pkt.family = f;
						pc_policy_evaluate(&c.p, &pkt, &want);
						pc_eval_index_evaluate(x, &pkt, &got);
						assert_memory_equal(&got, &want, sizeof(got));
					}
	pc_eval_index_destroy(x);
	pc_eval_index_destroy(NULL);
	done(&c);
}

static void test_owners(void **state)
{
	char dir[] = "/tmp/pc-proc-XXXXXX", path[256];
	struct pc_listeners l;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/42", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/42/fd", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/42/fd/3", dir);
	assert_int_equal(symlink("socket:[1001]", path), 0);
	snprintf(path, sizeof(path), "%s/42/fd/4", dir);
	assert_int_equal(symlink("/dev/null", path), 0);
	snprintf(path, sizeof(path), "%s/42/comm", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("krb5kdc\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/7", dir); /* no fd directory */
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/self", dir);
	assert_int_equal(mkdir(path, 0700), 0);

	pc_listeners_init(&l);
	l.v = xcalloc(3, sizeof(*l.v));
	l.n = 3;
	l.v[0] = sock(PC_PROTO_UDP, "0.0.0.0", 88);
	l.v[1] = sock(PC_PROTO_TCP, "0.0.0.0", 88);
	l.v[2] = sock(PC_PROTO_TCP, "0.0.0.0", 754);
	for (size_t i = 0; i < 3; i++) {
		l.v[i].pid = 0;
		l.v[i].comm[0] = '\0';
	}
	l.v[0].inode = l.v[1].inode = 1001;
	l.v[2].inode = 2002;
	pc_listeners_owners(&l, dir);
	pc_listeners_sort(&l);
	assert_false(l.proc_missing);
	assert_int_equal(l.v[0].port, 88); /* tcp first */
	assert_int_equal(l.v[0].proto, PC_PROTO_TCP);
	assert_int_equal(l.v[0].pid, 42);
	assert_string_equal(l.v[0].comm, "krb5kdc");
	assert_int_equal(l.v[1].port, 754);
	assert_int_equal(l.v[1].pid, 0);
	assert_int_equal(l.v[2].proto, PC_PROTO_UDP);
	assert_int_equal(l.v[2].pid, 42);
	pc_listeners_finish(&l);

	pc_listeners_init(&l);
	l.v = xcalloc(1, sizeof(*l.v));
	l.n = 1;
	snprintf(path, sizeof(path), "%s/none", dir);
	pc_listeners_owners(&l, path);
	assert_true(l.proc_missing);
	pc_listeners_finish(&l);

	snprintf(path, sizeof(path), "rm -r '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_allowed_not_listening),
			cmocka_unit_test(test_listening_dropped),
			cmocka_unit_test(test_listening_families),
			cmocka_unit_test(test_listening_interface),
			cmocka_unit_test(test_owners),
			cmocka_unit_test(test_source_index),
			cmocka_unit_test(test_eval_index),
	};

	return cmocka_run_group_tests_name("listening", tests, NULL, NULL);
}
